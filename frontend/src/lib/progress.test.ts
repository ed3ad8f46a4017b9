import { describe, expect, it } from "vitest";

import {
  addSample,
  averageRate,
  breakdown,
  etaSeconds,
  ratePerSecond,
  smoothedRate,
  roundShares,
  type Sample,
} from "./progress";

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe("breakdown", () => {
  it("splits the total into sent, failed and remaining shares that add up to 100", () => {
    const b = breakdown({ total: 200, sent: 120, failed: 30, pending: 50 });
    expect([b.sent, b.failed, b.remaining]).toEqual([60, 15, 25]);
    expect(b.rounded).toEqual({ sent: 60, failed: 15, cancelled: 0, suppressed: 0, remaining: 25 });
    expect(b.done).toBe(75);
  });

  it("rounds thirds so that the labels still add up to 100", () => {
    const b = breakdown({ total: 3, sent: 1, failed: 1, pending: 1 });
    expect(b.sent + b.failed + b.remaining).toBeCloseTo(100, 10);
    expect(sum([b.rounded.sent, b.rounded.failed, b.rounded.remaining])).toBe(100);
    expect(b.rounded).toEqual({ sent: 34, failed: 33, cancelled: 0, suppressed: 0, remaining: 33 });
  });

  it("adds up to 100 for many uneven splits", () => {
    for (const [sent, failed, pending] of [
      [1, 1, 5],
      [7, 0, 6],
      [2, 9, 0],
      [998, 1, 1],
      [1, 0, 12_344],
    ] as const) {
      const b = breakdown({ total: sent + failed + pending, sent, failed, pending });
      expect(sum([b.rounded.sent, b.rounded.failed, b.rounded.remaining])).toBe(100);
      expect(b.sent + b.failed + b.remaining).toBeCloseTo(100, 9);
    }
  });

  it("reads 0% done when nothing has been sent yet", () => {
    const b = breakdown({ total: 50, sent: 0, failed: 0, pending: 50 });
    expect(b.done).toBe(0);
    expect([b.sent, b.failed, b.remaining]).toEqual([0, 0, 100]);
  });

  it("never reads 100% done while something remains", () => {
    const b = breakdown({ total: 10_000, sent: 9_999, failed: 0, pending: 1 });
    expect(b.done).toBe(99);
    expect(breakdown({ total: 10_000, sent: 9_999, failed: 1, pending: 0 }).done).toBe(100);
  });

  it("handles a campaign without recipients: empty bars, nothing left to do", () => {
    const b = breakdown({ total: 0, sent: 0, failed: 0, pending: 0 });
    expect([b.sent, b.failed, b.remaining]).toEqual([0, 0, 0]);
    expect(b.rounded).toEqual({ sent: 0, failed: 0, cancelled: 0, suppressed: 0, remaining: 0 });
    expect(b.done).toBe(100);
    expect(Number.isNaN(b.sent)).toBe(false);
  });

  it("counts cancelled recipients as done, apart from sent and failed", () => {
    const b = breakdown({ total: 1000, sent: 300, failed: 20, cancelled: 680, pending: 0 });
    expect([b.sent, b.failed, b.cancelled, b.remaining]).toEqual([30, 2, 68, 0]);
    expect(b.rounded).toEqual({ sent: 30, failed: 2, cancelled: 68, suppressed: 0, remaining: 0 });
    expect(b.done).toBe(100);
    const thirds = breakdown({ total: 3, sent: 1, failed: 0, cancelled: 1, pending: 1 });
    expect(thirds.done).toBe(67);
    expect(sum(Object.values(thirds.rounded))).toBe(100);
  });

  it("counts suppressed recipients as done, apart from the others", () => {
    const b = breakdown({ total: 200, sent: 100, failed: 0, suppressed: 50, pending: 50 });
    expect([b.sent, b.suppressed, b.remaining]).toEqual([50, 25, 25]);
    expect(b.rounded).toEqual({ sent: 50, failed: 0, cancelled: 0, suppressed: 25, remaining: 25 });
    expect(b.done).toBe(75);
    // Every recipient suppressed: nothing to send, all done.
    const all = breakdown({ total: 3, sent: 0, failed: 0, suppressed: 3, pending: 0 });
    expect(all.done).toBe(100);
    expect(all.rounded.suppressed).toBe(100);
    const mixed = breakdown({ total: 7, sent: 1, failed: 1, cancelled: 1, suppressed: 1, pending: 3 });
    expect(sum(Object.values(mixed.rounded))).toBe(100);
    expect(mixed.done).toBeLessThan(100);
  });

  it("never exceeds 100% when the counters are momentarily inconsistent", () => {
    const b = breakdown({ total: 10, sent: 8, failed: 4, pending: 0 });
    expect(b.sent + b.failed + b.remaining).toBeCloseTo(100, 10);
    expect(b.done).toBe(100);
  });
});

describe("roundShares", () => {
  it("gives the leftover points to the largest remainders", () => {
    expect(roundShares([12.5, 12.5, 75])).toEqual([13, 12, 75]);
    expect(roundShares([0.4, 0.4, 99.2])).toEqual([1, 0, 99]);
    expect(roundShares([0, 0, 0])).toEqual([0, 0, 0]);
  });
});

describe("send rate and ETA", () => {
  const at = (seconds: number, done: number): Sample => ({ at: seconds * 1000, done });

  it("needs two samples at least a second apart", () => {
    expect(ratePerSecond([])).toBeNull();
    expect(ratePerSecond([at(0, 0)])).toBeNull();
    expect(ratePerSecond([at(0, 0), at(0.5, 10)])).toBeNull();
  });

  it("measures messages per second between the oldest and newest sample", () => {
    expect(ratePerSecond([at(0, 100), at(1.5, 130), at(3, 160), at(4, 180)])).toBe(20);
  });

  it("is zero when nothing moved (no progress)", () => {
    expect(ratePerSecond([at(0, 40), at(2, 40), at(4, 40)])).toBe(0);
  });

  it("keeps only the samples within the window", () => {
    let samples: Sample[] = [];
    for (let s = 0; s <= 30; s += 2) samples = addSample(samples, at(s, s * 10), 10_000);
    expect(samples[0]).toEqual(at(20, 200));
    expect(samples.at(-1)).toEqual(at(30, 300));
    expect(ratePerSecond(samples)).toBe(10);
  });

  it("starts over when the count goes backwards", () => {
    const samples = addSample([at(0, 50), at(2, 80)], at(4, 10));
    expect(samples).toEqual([at(4, 10)]);
    expect(ratePerSecond(samples)).toBeNull();
  });

  it("estimates the time left from the rate", () => {
    expect(etaSeconds(300, 20)).toBe(15);
    expect(etaSeconds(301, 20)).toBe(16);
    expect(etaSeconds(0, null)).toBe(0);
    expect(etaSeconds(0, 0)).toBe(0);
  });

  it("has no ETA without a measured, positive rate", () => {
    expect(etaSeconds(100, null)).toBeNull();
    expect(etaSeconds(100, 0)).toBeNull();
    expect(etaSeconds(100, Number.NaN)).toBeNull();
  });

  it("computes a finished campaign's average rate from its start and end", () => {
    expect(averageRate(600, "2026-01-01T10:00:00Z", "2026-01-01T10:01:00Z")).toBe(10);
    // Done within the same second: counted as one second, not infinity.
    expect(averageRate(50, "2026-01-01T10:00:00Z", "2026-01-01T10:00:00Z")).toBe(50);
    expect(averageRate(0, "2026-01-01T10:00:00Z", "2026-01-01T10:01:00Z")).toBeNull();
    expect(averageRate(10, null, "2026-01-01T10:01:00Z")).toBeNull();
  });
});

describe("smoothedRate", () => {
  const at = (seconds: number, done: number) => ({ at: seconds * 1000, done });

  it("says nothing before a few seconds of samples", () => {
    expect(smoothedRate([])).toBeNull();
    expect(smoothedRate([at(0, 0), at(1.5, 30)])).toBeNull();
    expect(smoothedRate([at(0, 0), at(1.5, 30), at(3, 60)])).toBe(20);
  });

  it("lets one burst move the rate a little, not all the way", () => {
    // 10 a second for 9 s, then a poll that finds 200 more at once.
    const steady = [0, 1.5, 3, 4.5, 6, 7.5, 9].map((s) => at(s, s * 10));
    const burst = [...steady, at(10.5, 90 + 200)];
    const rate = smoothedRate(burst)!;
    expect(smoothedRate(steady)).toBeCloseTo(10);
    // That poll alone reads 143 / s.
    expect(rate).toBeGreaterThan(10);
    expect(rate).toBeLessThan(30);
  });

  it("follows a lasting change within a few half-lives", () => {
    const slow = [0, 1.5, 3, 4.5, 6].map((s) => at(s, s * 10));
    const fast = [7.5, 9, 10.5, 12, 13.5, 15, 16.5, 18, 19.5, 21].map((s) => at(s, 60 + (s - 6) * 40));
    expect(smoothedRate([...slow, ...fast])).toBeGreaterThan(25);
  });
});
