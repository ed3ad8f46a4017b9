"use client";

import { keepPreviousData } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useId, useOptimistic, useTransition } from "react";

import type { Campaign, RecipientRow } from "@/lib/api/types";
import { formatCount, formatDateTime } from "@/lib/format";
import { RECIPIENT_FILTERS, type RecipientFilter } from "@/lib/params";
import { queries, recipientsQuery, useApiQuery, type Phase } from "@/lib/queries";

import { Pagination } from "./Pagination";
import { StatusBadge } from "./StatusBadge";
import { Card, ErrorNotice, Spinner } from "./ui";

const FILTER_LABELS: Record<RecipientFilter, string> = {
  all: "All",
  pending: "Pending",
  sent: "Sent",
  failed: "Failed",
  cancelled: "Cancelled",
  suppressed: "Suppressed",
};

const EMPTY_TEXT: Record<RecipientFilter, string> = {
  all: "This campaign has no recipients.",
  pending: "No recipients are waiting.",
  sent: "No messages have been sent yet.",
  failed: "No recipients have failed.",
  cancelled: "No recipients were cancelled.",
  suppressed: "No recipients were on the suppression list.",
};

function filterCount(campaign: Campaign, filter: RecipientFilter): number {
  switch (filter) {
    case "pending":
      return campaign.pendingEmails;
    case "sent":
      return campaign.sentEmails;
    case "failed":
      return campaign.failedEmails;
    case "cancelled":
      return campaign.cancelledEmails;
    case "suppressed":
      return campaign.suppressedEmails;
    default:
      return campaign.totalEmails;
  }
}

function hrefFor(campaignId: string, filter: RecipientFilter, page: number): string {
  const params = new URLSearchParams();
  if (filter !== "all") params.set("status", filter);
  if (page > 1) params.set("page", String(page));
  const query = params.toString();
  return `/campaigns/${campaignId}${query ? `?${query}` : ""}`;
}

/** A recipient's fields on one line: "company: Acme · plan: Pro" ("" when none). */
export function formatFields(fields: Record<string, string> | undefined): string {
  return Object.entries(fields ?? {})
    .map(([name, value]) => `${name}: ${value}`)
    .join(" · ");
}

/** A recipient's fields, cut to one line; the whole of them in the tooltip and for screen readers. */
export function FieldsLine({ fields }: { fields: Record<string, string> | undefined }) {
  const text = formatFields(fields);
  if (text === "") return null;
  return (
    <span className="block max-w-full truncate text-xs text-slate-600 sm:max-w-xs" title={text}>
      <span className="sr-only">Fields: </span>
      {text}
    </span>
  );
}

function Details({ row }: { row: RecipientRow }) {
  if (row.status === "FAILED") {
    return <span className="text-red-800 break-words">{row.error || "Failed"}</span>;
  }
  if (row.status === "CANCELLED") {
    return <span className="text-slate-700">Not sent: the campaign was cancelled</span>;
  }
  if (row.status === "SUPPRESSED") {
    return (
      <span className="text-slate-700">
        Never sent: on the suppression list when the campaign was stored or started sending
      </span>
    );
  }
  if (row.status === "SENT") {
    return (
      <span className="text-slate-700">
        Sent <time dateTime={row.sentAt ?? undefined}>{formatDateTime(row.sentAt, true)}</time>
      </span>
    );
  }
  return (
    <span className="text-slate-700">
      {row.error ? (
        <>
          <span className="text-amber-900 break-words">Retrying after: {row.error}</span>
          {row.nextAttemptAt && (
            <span className="block text-xs text-slate-600">
              Next attempt {formatDateTime(row.nextAttemptAt, true)}
            </span>
          )}
        </>
      ) : (
        "Waiting to be sent"
      )}
    </span>
  );
}

interface Props {
  campaign: Campaign;
  filter: RecipientFilter;
  page: number;
  phase: Phase;
}

/** The campaign's recipients with a status filter, each failure's error, and pages. */
export function RecipientsCard({ campaign, filter, page, phase }: Props) {
  const router = useRouter();
  const groupId = useId();
  // The radio moves at once; the table follows when the navigation lands.
  const [shownFilter, setShownFilter] = useOptimistic(filter);
  const [, startTransition] = useTransition();
  const query = useApiQuery({
    ...recipientsQuery(queries(), campaign.id, filter, page, phase),
    placeholderData: keepPreviousData,
  });
  // While a failing page is retried, its error shows rather than the previous page.
  const error = query.error ?? query.failureReason ?? undefined;
  const loading = query.isPlaceholderData;
  const data = loading && error ? undefined : query.data;

  let body: React.ReactNode;
  if (!data) {
    body = error ? (
      <ErrorNotice title="The recipients could not be loaded.">
        <p>{error.unreachable ? "The Paloma API cannot be reached. Retrying…" : error.message}</p>
      </ErrorNotice>
    ) : (
      <Spinner label="Loading recipients" />
    );
  } else if (data.items.length === 0) {
    body = (
      <p className="py-6 text-center text-sm text-slate-600">
        {page > 1 && data.total > 0 ? `There are no recipients on page ${page}.` : EMPTY_TEXT[filter]}
      </p>
    );
  } else {
    body = (
      // One table; below the sm breakpoint each row stacks into a small card. The explicit roles
      // keep the table semantics that `display: block` would drop.
      <div className="-mx-4 sm:-mx-5">
        <table role="table" className="block w-full text-left text-sm sm:table">
          <caption className="sr-only">
            {FILTER_LABELS[filter]} recipients, page {data.page} of{" "}
            {Math.max(1, Number(data.totalPages))}
          </caption>
          <thead
            role="rowgroup"
            className="hidden border-b border-slate-200 bg-slate-50 text-xs font-semibold tracking-wide text-slate-600 uppercase sm:table-header-group"
          >
            <tr role="row">
              <th role="columnheader" scope="col" className="px-5 py-2">
                Recipient
              </th>
              <th role="columnheader" scope="col" className="px-3 py-2">
                Status
              </th>
              <th role="columnheader" scope="col" className="px-3 py-2">
                Details
              </th>
              <th role="columnheader" scope="col" className="px-5 py-2 text-right">
                Attempts
              </th>
            </tr>
          </thead>
          <tbody role="rowgroup" className="block divide-y divide-slate-100 sm:table-row-group">
            {data.items.map((row) => (
              <tr
                key={row.id}
                role="row"
                className="grid grid-cols-[minmax(0,1fr)_auto] gap-x-3 gap-y-1 px-4 py-3 sm:table-row sm:px-0 sm:py-0 sm:align-top"
              >
                <td role="cell" className="min-w-0 sm:px-5 sm:py-2.5">
                  <span className="block font-medium break-words text-slate-900">{row.email}</span>
                  {row.name && <span className="block text-xs text-slate-600">{row.name}</span>}
                  <FieldsLine fields={row.fields} />
                </td>
                <td role="cell" className="justify-self-end sm:px-3 sm:py-2.5">
                  <StatusBadge status={row.status} />
                </td>
                <td role="cell" className="min-w-0 sm:max-w-md sm:px-3 sm:py-2.5">
                  <Details row={row} />
                </td>
                <td
                  role="cell"
                  className="justify-self-end text-xs text-slate-600 tabular-nums sm:px-5 sm:py-2.5 sm:text-right sm:text-sm sm:text-slate-900"
                >
                  <span className="sm:hidden">Attempts: </span>
                  {row.attempts}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }

  return (
    <Card title="Recipients" headingId="recipients-heading">
      <fieldset className="mb-4">
        <legend className="mb-2 text-sm font-medium text-slate-700">Filter by status</legend>
        <div className="inline-flex flex-wrap gap-1 rounded-lg bg-slate-100 p-1">
          {RECIPIENT_FILTERS.map((f) => {
            const inputId = `${groupId}-${f}`;
            return (
              <div key={f}>
                <input
                  type="radio"
                  id={inputId}
                  name={`${groupId}-status`}
                  value={f}
                  checked={shownFilter === f}
                  onChange={() =>
                    startTransition(() => {
                      setShownFilter(f);
                      router.replace(hrefFor(campaign.id, f, 1), { scroll: false });
                    })
                  }
                  className="peer sr-only"
                />
                <label
                  htmlFor={inputId}
                  className="inline-flex min-h-9 cursor-pointer items-center gap-1.5 rounded-md px-3 text-sm font-medium text-slate-700 peer-checked:bg-white peer-checked:text-slate-950 peer-checked:shadow-sm peer-focus-visible:outline-2 peer-focus-visible:outline-offset-1 peer-focus-visible:outline-blue-600 hover:text-slate-950"
                >
                  {FILTER_LABELS[f]}
                  <span
                    aria-hidden="true"
                    className="rounded-full bg-slate-200 px-1.5 text-xs tabular-nums text-slate-700"
                  >
                    {formatCount(filterCount(campaign, f))}
                  </span>
                </label>
              </div>
            );
          })}
        </div>
      </fieldset>
      <div aria-busy={loading} aria-live="off">
        {body}
      </div>
      {data && (
        <Pagination
          page={page}
          totalPages={Number(data.totalPages)}
          hrefFor={(p) => hrefFor(campaign.id, filter, p)}
          label="Recipient pages"
        />
      )}
    </Card>
  );
}
