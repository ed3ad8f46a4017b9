"use client";

import { keepPreviousData } from "@tanstack/react-query";
import { useState } from "react";

import { actionLabel } from "@/lib/activity";
import type { CampaignStatus } from "@/lib/api/types";
import { formatDateTime } from "@/lib/format";
import { activityQuery, queries, useApiQuery } from "@/lib/queries";

import { Card, ErrorNotice, Spinner } from "./ui";

const pageButton =
  "inline-flex min-h-9 items-center rounded-md border border-slate-300 bg-white px-3 text-sm font-medium text-slate-800 shadow-xs hover:bg-slate-50 disabled:border-slate-200 disabled:bg-slate-50 disabled:text-slate-400";

/**
 * Who did what to the campaign, when, and from which address: its activity trail, oldest first,
 * a page at a time.
 */
export function ActivityCard({ campaignId, status }: { campaignId: string; status: CampaignStatus }) {
  const [page, setPage] = useState(1);
  const query = useApiQuery({
    ...activityQuery(queries(), campaignId, page, status),
    placeholderData: keepPreviousData,
  });
  const error = query.error ?? query.failureReason ?? undefined;
  const data = query.data;

  let body: React.ReactNode;
  if (!data) {
    body = error ? (
      <ErrorNotice title="The activity could not be loaded.">
        <p>{error.unreachable ? "The Paloma API cannot be reached. Retrying…" : error.message}</p>
      </ErrorNotice>
    ) : (
      <Spinner label="Loading the activity" />
    );
  } else if (data.items.length === 0) {
    body = <p className="text-sm text-slate-600">Nothing has been recorded for this campaign.</p>;
  } else {
    body = (
      <ol aria-label="Activity" className="-my-2 divide-y divide-slate-100">
        {data.items.map((entry) => (
          <li
            key={entry.id}
            className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-0.5 py-2 text-sm"
          >
            <p className="min-w-0 text-slate-700">
              <span className="font-semibold text-slate-900">{actionLabel(entry.action)}</span> by{" "}
              <span className="font-medium break-words text-slate-900">{entry.keyName}</span>
            </p>
            <p className="text-xs text-slate-600 tabular-nums">
              <time dateTime={entry.at}>{formatDateTime(entry.at, true)}</time>
              {entry.clientAddress && (
                <>
                  {" "}
                  from <span className="font-mono">{entry.clientAddress}</span>
                </>
              )}
            </p>
          </li>
        ))}
      </ol>
    );
  }

  const totalPages = data ? Number(data.totalPages) : 1;
  return (
    <Card title="Activity" headingId="activity-heading">
      <div aria-busy={query.isPlaceholderData} aria-live="off">
        {body}
      </div>
      {totalPages > 1 && (
        <nav aria-label="Activity pages" className="flex items-center justify-between gap-3 pt-4">
          <button
            type="button"
            className={pageButton}
            disabled={page <= 1}
            onClick={() => setPage((p) => Math.max(1, p - 1))}
          >
            ← Previous
          </button>
          <p className="text-sm text-slate-600 tabular-nums">
            Page {page} of {totalPages}
          </p>
          <button
            type="button"
            className={pageButton}
            disabled={page >= totalPages}
            onClick={() => setPage((p) => Math.min(totalPages, p + 1))}
          >
            Next →
          </button>
        </nav>
      )}
    </Card>
  );
}
