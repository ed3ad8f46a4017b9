import { describe, expect, it } from "vitest";

import { toSeries } from "./timeline";

describe("toSeries", () => {
  it("fills the empty buckets between the API's non-empty ones with zeros", () => {
    const series = toSeries({
      bucketSeconds: 5,
      points: [
        { at: "2026-01-01T10:00:00Z", sent: 10, failed: 1 },
        { at: "2026-01-01T10:00:15Z", sent: 4, failed: 0 },
      ],
    });
    const t0 = Date.parse("2026-01-01T10:00:00Z") / 1000;
    expect(series.x).toEqual([t0, t0 + 5, t0 + 10, t0 + 15]);
    expect(series.sent).toEqual([10, 0, 0, 4]);
    expect(series.failed).toEqual([1, 0, 0, 0]);
  });

  it("is empty for a timeline without points", () => {
    expect(toSeries({ bucketSeconds: 1, points: [] })).toEqual({ x: [], sent: [], failed: [] });
  });
});
