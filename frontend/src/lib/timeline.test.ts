import { describe, expect, it } from "vitest";

import { legendValues, timeTickSpace, toSeries } from "./timeline";

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

describe("legendValues", () => {
  const series = { x: [100, 101, 102], sent: [5, 0, 7], failed: [1, 0, 2] };

  it("reads the bucket under the pointer, else the latest one", () => {
    expect(legendValues(series, 0)).toEqual({ at: 100_000, sent: 5, failed: 1, hovered: true });
    expect(legendValues(series, null)).toEqual({ at: 102_000, sent: 7, failed: 2, hovered: false });
    expect(legendValues(series, 9)).toEqual({ at: 102_000, sent: 7, failed: 2, hovered: false });
    expect(legendValues({ x: [], sent: [], failed: [] }, null)).toBeNull();
  });
});

describe("timeTickSpace", () => {
  it("leaves room for a whole label between two ticks", () => {
    expect(timeTickSpace(true)).toBeGreaterThan(timeTickSpace(false));
    expect(timeTickSpace(false)).toBeGreaterThanOrEqual(80);
  });
});
