"use client";

import Link from "next/link";
import { useState } from "react";

import type { JobCounts, Worker } from "@/lib/api/types";
import { formatAgo, formatCount, formatDateTime, formatRate, plural } from "@/lib/format";
import { QUEUE_POLL_INTERVAL_MS, queries, queueQuery, useApiQuery } from "@/lib/queries";
import { addSample, totalRate, type RateSample } from "@/lib/send-rate";

import { SendRateChart } from "./SendRateChart";
import { Card, ErrorNotice, LoadFailed, PageLoading, Stat } from "./ui";

const JOB_STATES: { key: keyof JobCounts; label: string; hint: string }[] = [
  { key: "waiting", label: "Waiting", hint: "for a worker to take them" },
  { key: "active", label: "Active", hint: "being sent by a worker" },
  { key: "delayed", label: "Delayed", hint: "scheduled, or retries not due yet" },
  { key: "failed", label: "Failed", hint: "jobs that gave up" },
  { key: "completed", label: "Completed", hint: "the last ones kept" },
  { key: "paused", label: "Paused", hint: "held while the queue is paused" },
];

function JobCountsCard({ counts }: { counts: JobCounts }) {
  return (
    <Card title="Queue" headingId="queue-heading">
      <dl className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-6">
        {JOB_STATES.map(({ key, label, hint }) => (
          <Stat
            key={key}
            label={label}
            value={formatCount(counts[key])}
            tone={key === "failed" && counts.failed > 0 ? "failed" : "default"}
            hint={hint}
          />
        ))}
      </dl>
    </Card>
  );
}

/** A campaign a worker is sending: its subject once read (its id until then), linked to its page. */
function CampaignLink({ id }: { id: string }) {
  const { data } = useApiQuery({
    ...queries().queryOptions("get", "/api/emails/{id}", { params: { path: { id } } }),
    // Only the subject is used here; the campaign's own page keeps the counters fresh.
    staleTime: 60_000,
  });
  return (
    <Link
      href={`/campaigns/${id}`}
      title={id}
      className="rounded-sm font-medium break-words text-blue-800 underline hover:text-blue-950"
    >
      {data?.subject ?? `Campaign ${id.slice(0, 8)}`}
    </Link>
  );
}

const CELL = "px-3 py-2 align-top";

function WorkerRow({ worker, now }: { worker: Worker; now: number }) {
  return (
    <tr>
      <th scope="row" className={`${CELL} pl-0 text-left font-medium text-slate-900`}>
        {worker.host}
      </th>
      <td className={`${CELL} tabular-nums`}>{worker.pid}</td>
      <td className={`${CELL} whitespace-nowrap`}>
        <time dateTime={worker.startedAt} title={formatDateTime(worker.startedAt, true)}>
          {formatAgo(worker.startedAt, now)}
        </time>
      </td>
      <td className={`${CELL} whitespace-nowrap`}>
        <time dateTime={worker.lastBeatAt} title={formatDateTime(worker.lastBeatAt, true)}>
          {formatAgo(worker.lastBeatAt, now)}
        </time>
      </td>
      <td className={CELL}>
        {worker.campaigns.length === 0 ? (
          <span className="text-slate-600">Idle</span>
        ) : (
          <ul className="space-y-1">
            {worker.campaigns.map((id) => (
              <li key={id}>
                <CampaignLink id={id} />
              </li>
            ))}
          </ul>
        )}
      </td>
      <td className={`${CELL} text-right tabular-nums`}>{formatRate(worker.messagesPerSecond)}</td>
      <td className={`${CELL} pr-0 text-right tabular-nums`}>{formatCount(worker.concurrency)}</td>
    </tr>
  );
}

function WorkersCard({ workers, now }: { workers: Worker[]; now: number }) {
  return (
    <Card title={`Workers (${formatCount(workers.length)})`} headingId="workers-heading">
      {workers.length === 0 ? (
        <p className="rounded-md border border-dashed border-slate-300 px-4 py-8 text-center text-sm text-slate-700">
          No worker is running: campaigns wait in the queue until one starts (
          <code className="font-mono text-slate-900">paloma-worker</code>).
        </p>
      ) : (
        // Scrolls sideways on a narrow screen; focusable so that it can be scrolled by keyboard.
        <div
          className="overflow-x-auto"
          tabIndex={0}
          role="region"
          aria-labelledby="workers-heading"
        >
          <table className="w-full min-w-[40rem] text-left text-sm text-slate-700">
            <caption className="sr-only">
              Live workers, oldest first: {plural(workers.length, "worker", "workers")}
            </caption>
            <thead className="border-b border-slate-200 text-xs font-semibold tracking-wide text-slate-600 uppercase">
              <tr>
                <th scope="col" className={`${CELL} pl-0`}>
                  Host
                </th>
                <th scope="col" className={CELL}>
                  PID
                </th>
                <th scope="col" className={CELL}>
                  Up since
                </th>
                <th scope="col" className={CELL}>
                  Last beat
                </th>
                <th scope="col" className={CELL}>
                  Sending
                </th>
                <th scope="col" className={`${CELL} text-right`}>
                  Messages / s
                </th>
                <th scope="col" className={`${CELL} pr-0 text-right`}>
                  Concurrency
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {workers.map((w) => (
                <WorkerRow key={w.id} worker={w} now={now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

/**
 * The System page: the campaign queue's jobs by state, the workers alive and what they send, and
 * the send rate of the last minutes. Read every 2 s while the tab is visible; the rate's samples
 * are kept in the page (one per read) and start again when it is opened again.
 */
export function SystemOverview() {
  const query = useApiQuery(queueQuery(queries()));
  const [rate, setRate] = useState<{ at: number; samples: RateSample[] }>({ at: 0, samples: [] });
  // One sample per answer, taken as it arrives (React's way of deriving state from a change).
  if (query.data && query.dataUpdatedAt !== rate.at) {
    setRate({
      at: query.dataUpdatedAt,
      samples: addSample(rate.samples, {
        at: query.dataUpdatedAt,
        perSecond: totalRate(query.data.workers),
      }),
    });
  }

  // While a failing read is retried, its error shows rather than the last answer.
  const error = query.error ?? query.failureReason ?? undefined;
  if (error?.status === 503) {
    return (
      <div role="alert">
        <ErrorNotice title="The queue cannot be read right now.">
          <p>
            The API answered that a service it needs is unavailable (HTTP 503): Redis, which holds
            the queue and the workers&apos; heartbeats, is most likely down. Retrying every{" "}
            {QUEUE_POLL_INTERVAL_MS / 1000} seconds…
          </p>
        </ErrorNotice>
      </div>
    );
  }
  const data = query.data;
  if (!data) {
    if (error) {
      return (
        <LoadFailed
          title="The queue could not be loaded."
          message={error.unreachable ? "The Paloma API cannot be reached." : error.message}
          onRetry={() => void query.refetch()}
        />
      );
    }
    return <PageLoading label="Loading the queue" />;
  }

  // Times are shown as of the answer, so that the server's render and the browser's agree.
  const now = query.dataUpdatedAt;
  return (
    <div className="space-y-6">
      <JobCountsCard counts={data.counts} />
      <Card title="Send rate" headingId="rate-heading">
        <SendRateChart samples={rate.samples} />
      </Card>
      <WorkersCard workers={data.workers} now={now} />
    </div>
  );
}
