"use client";

import { keepPreviousData } from "@tanstack/react-query";
import dynamic from "next/dynamic";
import { useMemo } from "react";

import { formatCount, formatDateTime, formatDuration } from "@/lib/format";
import { queries, timelineQuery, useApiQuery, type Phase } from "@/lib/queries";
import { toSeries } from "@/lib/timeline";

import { Card, Spinner } from "./ui";

/** The chart's box: the legend's line and the canvas (see TimelineChart), from the first paint. */
const BOX = "h-[232px]";
/** The caption's room: three lines, so that the card keeps its height as the caption fills in. */
const CAPTION = "mt-2 min-h-12 text-xs text-slate-600";

function Placeholder({ children }: { children: React.ReactNode }) {
  return (
    <div className={`${BOX} flex items-center justify-center rounded-md bg-slate-50`}>
      {children}
    </div>
  );
}

// uPlot draws on a canvas: load it in the browser only, and only on this page.
const TimelineChart = dynamic(() => import("./TimelineChart"), {
  ssr: false,
  loading: () => (
    <Placeholder>
      <Spinner label="Loading chart" />
    </Placeholder>
  ),
});

/** "Messages sent over time": a bar chart of the campaign's timeline, refreshed while it sends. */
export function TimelineCard({ campaignId, phase }: { campaignId: string; phase: Phase }) {
  const { data, error, failureReason } = useApiQuery({
    ...timelineQuery(queries(), campaignId, phase),
    // The last chart stays while the final one loads.
    placeholderData: keepPreviousData,
  });
  const series = useMemo(() => (data ? toSeries(data) : null), [data]);

  // Every state keeps the same height: the box of the chart, and the caption's lines.
  let content: React.ReactNode;
  if (!data || !series) {
    content = (
      <>
        <Placeholder>
          {(error ?? failureReason) ? (
            <p className="text-sm text-slate-600">The chart is not available right now.</p>
          ) : (
            <Spinner label="Loading chart" />
          )}
        </Placeholder>
        <p className={CAPTION} />
      </>
    );
  } else if (series.x.length === 0) {
    content = (
      <>
        <Placeholder>
          <p className="text-sm text-slate-600">No messages have been sent yet.</p>
        </Placeholder>
        <p className={CAPTION} />
      </>
    );
  } else {
    const sent = series.sent.reduce((a, b) => a + b, 0);
    const failed = series.failed.reduce((a, b) => a + b, 0);
    const peak = Math.max(...series.sent.map((s, i) => s + (series.failed[i] ?? 0)));
    const from = new Date((series.x[0] ?? 0) * 1000).toISOString();
    const to = new Date(
      ((series.x[series.x.length - 1] ?? 0) + data.bucketSeconds) * 1000,
    ).toISOString();
    content = (
      <figure>
        <div aria-hidden="true" className={BOX}>
          <TimelineChart series={series} bucketSeconds={data.bucketSeconds} />
        </div>
        <figcaption className={CAPTION}>
          Messages per {formatDuration(data.bucketSeconds)} from {formatDateTime(from, true)} to{" "}
          {formatDateTime(to, true)}: {formatCount(sent)} sent, {formatCount(failed)} failed; at
          most {formatCount(peak)} in one interval.
        </figcaption>
      </figure>
    );
  }

  return (
    <Card title="Messages over time" headingId="timeline-heading">
      {content}
    </Card>
  );
}
