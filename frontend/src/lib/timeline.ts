import type { Timeline } from "./api/types";

/** Chart columns: bucket starts (seconds since the epoch) and sent / failed per bucket. */
export interface TimelineSeries {
  x: number[];
  sent: number[];
  failed: number[];
}

/** At most this many buckets are drawn (the API sends at most 120 buckets' span). */
const MAX_BUCKETS = 1000;

/**
 * Spreads the API's non-empty buckets over a continuous axis, with zeros for the empty
 * buckets in between, so the chart shows pauses as pauses.
 */
export function toSeries(timeline: Timeline): TimelineSeries {
  const step = Math.max(1, timeline.bucketSeconds);
  const points = timeline.points
    .map((p) => ({ t: Math.floor(Date.parse(p.at) / 1000), sent: p.sent, failed: p.failed }))
    .filter((p) => Number.isFinite(p.t))
    .sort((a, b) => a.t - b.t);
  const series: TimelineSeries = { x: [], sent: [], failed: [] };
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return series;
  const buckets = Math.floor((last.t - first.t) / step) + 1;
  if (buckets > MAX_BUCKETS) {
    for (const p of points) {
      series.x.push(p.t);
      series.sent.push(p.sent);
      series.failed.push(p.failed);
    }
    return series;
  }
  const byBucket = new Map(points.map((p) => [Math.floor((p.t - first.t) / step), p]));
  for (let i = 0; i < buckets; i += 1) {
    const p = byBucket.get(i);
    series.x.push(first.t + i * step);
    series.sent.push(p?.sent ?? 0);
    series.failed.push(p?.failed ?? 0);
  }
  return series;
}

/** What the chart's legend says: one bucket's start (ms) and its counts. */
export interface LegendValues {
  at: number;
  sent: number;
  failed: number;
  /** Whether it is the bucket under the pointer (else the latest one). */
  hovered: boolean;
}

/**
 * The legend's values: those of the bucket at `idx` (under the pointer), or of the latest
 * bucket when the pointer is not on the chart; null when there is no bucket.
 */
export function legendValues(series: TimelineSeries, idx: number | null | undefined): LegendValues | null {
  const hovered = idx !== null && idx !== undefined && idx >= 0 && idx < series.x.length;
  const i = hovered ? idx : series.x.length - 1;
  const x = series.x[i];
  if (x === undefined) return null;
  return { at: x * 1000, sent: series.sent[i] ?? 0, failed: series.failed[i] ?? 0, hovered };
}

/**
 * The least room, in CSS pixels, between two time labels of the x axis: about one label's
 * width and a gap, so that labels never overlap; a narrow chart gets fewer of them.
 */
export function timeTickSpace(withSeconds: boolean): number {
  return withSeconds ? 110 : 80;
}
