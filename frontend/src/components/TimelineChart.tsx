"use client";

import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";

import "uplot/dist/uPlot.min.css";

import { formatClock, formatCount, formatDateTime } from "@/lib/format";
import { legendValues, timeTickSpace, type TimelineSeries } from "@/lib/timeline";

import { Swatch } from "./ui";

const SENT = "#059669"; // emerald-600
const FAILED = "#dc2626"; // red-600
/** The canvas's height; the legend's line comes above it (see `CHART_BOX_CLASS`). */
export const HEIGHT = 200;
/** The narrowest x span, in buckets. */
const MIN_BUCKETS = 10;

interface Props {
  series: TimelineSeries;
  bucketSeconds: number;
}

function stackedData(series: TimelineSeries): uPlot.AlignedData {
  // Failed bars are drawn as sent + failed behind the sent bars, so each column stacks.
  const total = series.sent.map((s, i) => s + (series.failed[i] ?? 0));
  return [series.x, total, series.sent];
}

/**
 * Messages per time bucket: sent (green) stacked on failed (red), with a legend that reads the
 * bucket under the pointer, or the latest one. uPlot draws on a canvas, so this module is only
 * ever loaded in the browser (see TimelineCard); its box has its final height from the start.
 */
export default function TimelineChart({ series, bucketSeconds }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(series);
  const [hovered, setHovered] = useState<number | null>(null);
  const withSeconds = bucketSeconds < 60;

  useEffect(() => {
    latest.current = series;
  }, [series]);

  useEffect(() => {
    const el = container.current;
    if (!el) return;
    const step = Math.max(1, bucketSeconds);
    const bars = uPlot.paths.bars?.({ size: [0.8, 48], align: 0 });
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: HEIGHT,
      padding: [8, 8, 0, 0],
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      legend: { show: false },
      scales: {
        x: {
          time: true,
          // From the data, not from uPlot's own min/max: with a single bucket uPlot widens the
          // span to years. At least MIN_BUCKETS wide, so a short campaign's bars stay bars.
          range: () => {
            const x = latest.current.x;
            const first = x[0] ?? 0;
            const last = x[x.length - 1] ?? first;
            const lo = first - step / 2;
            return [lo, Math.max(last + step / 2, lo + MIN_BUCKETS * step)];
          },
        },
        y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
      },
      axes: [
        {
          stroke: "#475569",
          grid: { stroke: "#e2e8f0", width: 1 },
          ticks: { show: false },
          // Room for a whole label between ticks: fewer of them on a narrow chart.
          space: timeTickSpace(withSeconds),
          // Times as the rest of the page writes them.
          values: (_u, splits) => splits.map((v) => formatClock(v * 1000, withSeconds)),
        },
        {
          stroke: "#475569",
          grid: { stroke: "#e2e8f0", width: 1 },
          ticks: { show: false },
          size: 48,
          space: 30,
          values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : "")),
        },
      ],
      series: [
        {},
        { label: "Failed", stroke: FAILED, fill: FAILED, width: 0, paths: bars, points: { show: false } },
        { label: "Sent", stroke: SENT, fill: SENT, width: 0, paths: bars, points: { show: false } },
      ],
      hooks: {
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            setHovered(idx === undefined || idx === null || (u.cursor.left ?? -1) < 0 ? null : idx);
          },
        ],
      },
    };
    const chart = new uPlot(opts, stackedData(latest.current), el);
    plot.current = chart;
    const observer = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(240, el.clientWidth), height: HEIGHT });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [bucketSeconds, withSeconds]);

  useEffect(() => {
    plot.current?.setData(stackedData(series));
  }, [series]);

  const legend = legendValues(series, hovered);
  return (
    <div>
      <p
        data-testid="chart-legend"
        className="flex h-6 flex-wrap items-center gap-x-4 overflow-hidden text-xs text-slate-600 tabular-nums"
      >
        {legend && (
          <>
            <span>
              {legend.hovered ? "" : "Latest: "}
              {formatDateTime(new Date(legend.at).toISOString(), withSeconds)}
            </span>
            <span className="inline-flex items-center gap-1.5">
              <Swatch tone="sent" /> Sent {formatCount(legend.sent)}
            </span>
            <span className="inline-flex items-center gap-1.5">
              <Swatch tone="failed" /> Failed {formatCount(legend.failed)}
            </span>
          </>
        )}
      </p>
      <div ref={container} className="mt-2 h-[200px] w-full" />
    </div>
  );
}
