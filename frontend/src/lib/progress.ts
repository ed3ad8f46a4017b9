import type { Campaign } from "./api/types";

/**
 * A campaign's counters. The API guarantees sent + failed + cancelled + suppressed + pending ==
 * total; `cancelled` (recipients a cancel left unsent) and `suppressed` (on the suppression list
 * when the campaign was stored or started sending, never sent) may be left out when there are none.
 */
export interface Counts {
  total: number;
  sent: number;
  failed: number;
  cancelled?: number;
  suppressed?: number;
  pending: number;
}

/** The counters of `campaign`. */
export function countsOf(campaign: Campaign): Counts {
  return {
    total: campaign.totalEmails,
    sent: campaign.sentEmails,
    failed: campaign.failedEmails,
    cancelled: campaign.cancelledEmails,
    suppressed: campaign.suppressedEmails,
    pending: campaign.pendingEmails,
  };
}

export interface Breakdown {
  /** Exact shares of the total, 0 to 100, for bar widths. They add up to 100 (0 when total is 0). */
  sent: number;
  failed: number;
  cancelled: number;
  suppressed: number;
  remaining: number;
  /** Whole-number shares for labels, rounded so that they still add up to 100. */
  rounded: { sent: number; failed: number; cancelled: number; suppressed: number; remaining: number };
  /**
   * Share with a final outcome (sent, failed, cancelled or suppressed), 0 to 100; 100 when there
   * is nothing to send.
   */
  done: number;
}

/**
 * Rounds shares that add up to 100 to whole numbers that still do (largest remainder method),
 * so labels never read 33% + 33% + 33%.
 */
export function roundShares(values: readonly number[]): number[] {
  const total = values.reduce((a, b) => a + b, 0);
  if (total <= 0) return values.map(() => 0);
  const target = Math.round(total);
  const floors = values.map((v) => Math.floor(v));
  let missing = target - floors.reduce((a, b) => a + b, 0);
  const order = values
    .map((v, i) => ({ i, rest: v - Math.floor(v) }))
    .sort((a, b) => b.rest - a.rest || a.i - b.i);
  const result = [...floors];
  for (const { i } of order) {
    if (missing <= 0) break;
    result[i] = (result[i] ?? 0) + 1;
    missing -= 1;
  }
  return result;
}

function clampCount(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Splits a campaign into sent / failed / cancelled / suppressed / remaining shares of its total. */
export function breakdown(counts: Counts): Breakdown {
  const sent = clampCount(counts.sent);
  const failed = clampCount(counts.failed);
  const cancelled = clampCount(counts.cancelled ?? 0);
  const suppressed = clampCount(counts.suppressed ?? 0);
  const total = Math.max(clampCount(counts.total), sent + failed + cancelled + suppressed);
  if (total === 0) {
    return {
      sent: 0,
      failed: 0,
      cancelled: 0,
      suppressed: 0,
      remaining: 0,
      rounded: { sent: 0, failed: 0, cancelled: 0, suppressed: 0, remaining: 0 },
      done: 100,
    };
  }
  const remainingCount = total - sent - failed - cancelled - suppressed;
  const shares = [sent, failed, cancelled, suppressed, remainingCount].map(
    (n) => (n * 100) / total,
  );
  const [rs = 0, rf = 0, rc = 0, rp = 0, rr = 0] = roundShares(shares);
  // A campaign with anything left to send never reads 100%.
  let doneRounded = rs + rf + rc + rp;
  if (remainingCount > 0 && doneRounded === 100) doneRounded = 99;
  return {
    sent: shares[0] ?? 0,
    failed: shares[1] ?? 0,
    cancelled: shares[2] ?? 0,
    suppressed: shares[3] ?? 0,
    remaining: shares[4] ?? 0,
    rounded: { sent: rs, failed: rf, cancelled: rc, suppressed: rp, remaining: rr },
    done: doneRounded,
  };
}

/** One observation of a campaign: when (ms since the epoch) and how many had a final outcome. */
export interface Sample {
  at: number;
  done: number;
}

/** How far back the send rate looks. */
export const RATE_WINDOW_MS = 20_000;

/**
 * Adds a sample, keeping only those within the window before it. A count that went down (a
 * different campaign, or a reset) starts over.
 */
export function addSample(
  samples: readonly Sample[],
  sample: Sample,
  windowMs: number = RATE_WINDOW_MS,
): Sample[] {
  const last = samples[samples.length - 1];
  if (last && (sample.done < last.done || sample.at < last.at)) return [sample];
  const kept = samples.filter((s) => sample.at - s.at <= windowMs);
  return [...kept, sample];
}

/**
 * Messages per second over the samples (oldest to newest), or null when they cannot tell yet:
 * fewer than two samples, or less than a second between them.
 */
export function ratePerSecond(samples: readonly Sample[]): number | null {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last || samples.length < 2) return null;
  const seconds = (last.at - first.at) / 1000;
  if (seconds < 1) return null;
  return Math.max(0, (last.done - first.done) / seconds);
}

/** Seconds until `remaining` messages are done at `rate` per second; null when unknown. */
export function etaSeconds(remaining: number, rate: number | null): number | null {
  if (remaining <= 0) return 0;
  if (rate === null || !Number.isFinite(rate) || rate <= 0) return null;
  return Math.ceil(remaining / rate);
}

/** Average rate of a finished campaign from its start and end times (ISO strings); null when unknown. */
export function averageRate(
  done: number,
  startedAt: string | null | undefined,
  completedAt: string | null | undefined,
): number | null {
  if (!startedAt || !completedAt || done <= 0) return null;
  const seconds = (Date.parse(completedAt) - Date.parse(startedAt)) / 1000;
  if (!Number.isFinite(seconds)) return null;
  return done / Math.max(seconds, 1);
}

/** How much data the smoothed rate needs before it says anything: a few seconds of samples. */
export const MIN_ESTIMATE_MS = 3000;
/** How fast the smoothed rate forgets: an interval this old weighs half as much as a new one. */
export const RATE_HALF_LIFE_MS = 10_000;

/**
 * Messages per second, smoothed: an exponentially weighted average of the rates between
 * successive samples (oldest to newest), each weighted by how long it lasted, so that one burst
 * or one slow poll moves it little. Null until the samples span `MIN_ESTIMATE_MS`.
 */
export function smoothedRate(
  samples: readonly Sample[],
  halfLifeMs: number = RATE_HALF_LIFE_MS,
  minSpanMs: number = MIN_ESTIMATE_MS,
): number | null {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last || last.at - first.at < minSpanMs) return null;
  let rate: number | null = null;
  for (let i = 1; i < samples.length; i += 1) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const ms = b.at - a.at;
    if (ms <= 0) continue;
    const r = Math.max(0, ((b.done - a.done) * 1000) / ms);
    if (rate === null) {
      rate = r;
    } else {
      const alpha = 1 - Math.pow(2, -ms / halfLifeMs);
      rate += alpha * (r - rate);
    }
  }
  return rate;
}
