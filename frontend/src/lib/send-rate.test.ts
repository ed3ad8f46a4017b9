import { describe, expect, it } from "vitest";

import type { Worker } from "./api/types";
import { addSample, chartTop, linePoints, totalRate } from "./send-rate";

function worker(messagesPerSecond: number): Worker {
  return {
    id: String(messagesPerSecond),
    host: "box",
    pid: 1,
    startedAt: "2026-12-01T04:00:00Z",
    lastBeatAt: "2026-12-01T04:36:58Z",
    campaigns: [],
    messagesPerSecond,
    concurrency: 2,
  };
}

describe("totalRate", () => {
  it("adds up the workers' rates", () => {
    expect(totalRate([worker(812.5), worker(7.5)])).toBe(820);
    expect(totalRate([])).toBe(0);
  });
});

describe("addSample", () => {
  it("keeps the samples of the window only, the new one last", () => {
    let samples = addSample([], { at: 0, perSecond: 1 }, 10_000);
    samples = addSample(samples, { at: 6000, perSecond: 2 }, 10_000);
    samples = addSample(samples, { at: 10_000, perSecond: 3 }, 10_000);
    expect(samples.map((s) => s.at)).toEqual([0, 6000, 10_000]);
    samples = addSample(samples, { at: 12_000, perSecond: 4 }, 10_000);
    expect(samples.map((s) => s.perSecond)).toEqual([2, 3, 4]);
  });

  it("replaces a sample taken at the same time", () => {
    const samples = addSample([{ at: 5, perSecond: 1 }], { at: 5, perSecond: 9 });
    expect(samples).toEqual([{ at: 5, perSecond: 9 }]);
  });
});

describe("the chart's scale and line", () => {
  it("tops the chart a little above the peak, at a round figure, at least 1 / s", () => {
    expect(chartTop([])).toBe(1);
    expect(chartTop([{ at: 0, perSecond: 0.2 }])).toBe(1);
    expect(chartTop([{ at: 0, perSecond: 812.5 }, { at: 1, perSecond: 3 }])).toBe(1000);
    expect(chartTop([{ at: 0, perSecond: 40 }])).toBe(50);
  });

  it("puts the newest sample at the right edge and time over the window", () => {
    const points = linePoints(
      [
        { at: 0, perSecond: 0 },
        { at: 5000, perSecond: 5 },
        { at: 10_000, perSecond: 10 },
      ],
      10,
      100,
      50,
      10_000,
    );
    expect(points).toBe("0,50 50,25 100,0");
    expect(linePoints([], 10, 100, 50)).toBe("");
  });
});
