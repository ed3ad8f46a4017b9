import type { Worker } from "./api/types";

/** How far back the System page's send-rate chart goes. */
export const RATE_WINDOW_MS = 5 * 60_000;

/** The messages per second of every worker together, at one read of the queue. */
export interface RateSample {
  /** When the answer arrived (ms since the epoch, the browser's clock). */
  at: number;
  perSecond: number;
}

/** The messages per second of all the workers together (each counts its own since its last beat). */
export function totalRate(workers: readonly Worker[]): number {
  return workers.reduce(
    (sum, w) => sum + (Number.isFinite(w.messagesPerSecond) ? w.messagesPerSecond : 0),
    0,
  );
}

/**
 * `samples` with `sample` added, less those older than `windowMs` before it. A sample taken at
 * the same time as the last one (the same answer seen twice) replaces it.
 */
export function addSample(
  samples: readonly RateSample[],
  sample: RateSample,
  windowMs = RATE_WINDOW_MS,
): RateSample[] {
  const since = sample.at - windowMs;
  const kept = samples.filter((s) => s.at >= since && s.at < sample.at);
  return [...kept, sample];
}

/**
 * The chart's line, as `points` of an SVG `<polyline>` in a `width` x `height` box: time runs
 * over the last `windowMs` up to the newest sample (right edge), the rate from 0 (bottom) to
 * `top` (the top edge).
 */
export function linePoints(
  samples: readonly RateSample[],
  top: number,
  width: number,
  height: number,
  windowMs = RATE_WINDOW_MS,
): string {
  const last = samples[samples.length - 1];
  if (!last) return "";
  const start = last.at - windowMs;
  const scale = top > 0 ? top : 1;
  return samples
    .map((s) => {
      const x = ((s.at - start) / windowMs) * width;
      const y = height - (Math.min(s.perSecond, scale) / scale) * height;
      return `${round(x)},${round(y)}`;
    })
    .join(" ");
}

/** The rate the chart's top stands for: the peak with some room above it, at least 1 / s. */
export function chartTop(samples: readonly RateSample[]): number {
  const peak = samples.reduce((max, s) => Math.max(max, s.perSecond), 0);
  return Math.max(1, niceCeil(peak * 1.1));
}

/** The smallest 1, 2 or 5 times a power of ten that is at least `n` (n > 0). */
function niceCeil(n: number): number {
  if (n <= 0) return 0;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= n) return step * power;
  }
  return 10 * power;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
