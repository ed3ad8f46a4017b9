"use client";

import { keepPreviousData } from "@tanstack/react-query";
import Link from "next/link";

import Form from "next/form";

import type { Campaign, CampaignStatus } from "@/lib/api/types";
import { formatCount, formatDateTime, plural } from "@/lib/format";
import { CAMPAIGN_STATUSES, campaignListHref, type CampaignListFilter } from "@/lib/params";
import { countsOf } from "@/lib/progress";
import { campaignPageQuery, hasActive, queries, useApiQuery, useMe } from "@/lib/queries";
import { formatSendTime } from "@/lib/schedule";
import { can } from "@/lib/scopes";

import { Pagination } from "./Pagination";
import { ProgressBar } from "./ProgressBar";
import { StatusBadge } from "./StatusBadge";
import { LoadFailed, PageLoading, Swatch, buttonPrimary, buttonSecondary } from "./ui";


function CampaignRow({ campaign }: { campaign: Campaign }) {
  const counts = countsOf(campaign);
  const cancelled = counts.cancelled ?? 0;
  const suppressed = counts.suppressed ?? 0;
  return (
    <li className="relative rounded-lg border border-slate-200 bg-white p-4 shadow-xs transition-colors focus-within:ring-2 focus-within:ring-blue-600 hover:border-slate-300 sm:p-5">
      <div className="flex items-start justify-between gap-3">
        <h2 className="min-w-0 text-base font-semibold break-words text-slate-900">
          <Link
            href={`/campaigns/${campaign.id}`}
            className="rounded-sm after:absolute after:inset-0 after:content-[''] hover:underline focus-visible:outline-none"
          >
            {campaign.subject}
          </Link>
        </h2>
        <StatusBadge status={campaign.status} />
      </div>
      <div className="mt-3">
        <ProgressBar counts={counts} label={`Delivery progress of ${campaign.subject}`} />
      </div>
      <dl className="mt-3 flex flex-wrap items-center gap-x-4 gap-y-1 text-sm text-slate-700 tabular-nums">
        <div className="flex items-center gap-1.5">
          <Swatch tone="sent" />
          <dt className="sr-only">Sent</dt>
          <dd>
            <span className="font-semibold text-emerald-800">{formatCount(counts.sent)}</span> sent
          </dd>
        </div>
        <div className="flex items-center gap-1.5">
          <Swatch tone="failed" />
          <dt className="sr-only">Failed</dt>
          <dd>
            <span className="font-semibold text-red-800">{formatCount(counts.failed)}</span> failed
          </dd>
        </div>
        {cancelled > 0 && (
          <div className="flex items-center gap-1.5">
            <Swatch tone="cancelled" />
            <dt className="sr-only">Cancelled</dt>
            <dd>
              <span className="font-semibold text-slate-900">{formatCount(cancelled)}</span>{" "}
              cancelled
            </dd>
          </div>
        )}
        {suppressed > 0 && (
          <div
            className="flex items-center gap-1.5"
            title="On the suppression list when the campaign was stored or started sending; never sent"
          >
            <Swatch tone="suppressed" />
            <dt className="sr-only">Suppressed</dt>
            <dd>
              <span className="font-semibold text-slate-900">{formatCount(suppressed)}</span>{" "}
              suppressed
            </dd>
          </div>
        )}
        <div className="flex items-center gap-1.5">
          <Swatch tone="remaining" />
          <dt className="sr-only">Remaining</dt>
          <dd>
            <span className="font-semibold text-slate-900">{formatCount(counts.pending)}</span>{" "}
            remaining
          </dd>
        </div>
        <div className="flex w-full flex-col text-slate-600 sm:ml-auto sm:w-auto sm:flex-row sm:gap-1">
          <dt className="sr-only">Recipients</dt>
          <dd>
            {plural(counts.total, "recipient", "recipients")}
            <span aria-hidden="true" className="hidden sm:inline">
              {" "}
              ·
            </span>
          </dd>
          {campaign.status === "SCHEDULED" && campaign.scheduledAt && (
            <>
              <dt className="sr-only">Scheduled</dt>
              <dd className="font-medium text-sky-900">
                Scheduled for{" "}
                <time dateTime={campaign.scheduledAt} suppressHydrationWarning>
                  {formatSendTime(campaign.scheduledAt, null)}
                </time>
                <span aria-hidden="true" className="hidden font-normal text-slate-600 sm:inline">
                  {" "}
                  ·
                </span>
              </dd>
            </>
          )}
          <dt className="sr-only">Created</dt>
          <dd>
            Created <time dateTime={campaign.createdAt}>{formatDateTime(campaign.createdAt)}</time>
          </dd>
        </div>
      </dl>
    </li>
  );
}

/** The empty list's invitation, for a key that may create campaigns. */
function NoCampaignsYet() {
  const creator = can(useMe(), "campaigns:create");
  return (
    <div className="rounded-lg border border-dashed border-slate-300 bg-white px-6 py-14 text-center">
      <h2 className="text-lg font-semibold text-slate-900">No campaigns yet</h2>
      {creator ? (
        <>
          <p className="mt-1 text-sm text-slate-600">
            Write a message, paste your recipients, and follow the delivery live.
          </p>
          <Link href="/campaigns/new" className={`${buttonPrimary} mt-5`}>
            Create your first campaign
          </Link>
        </>
      ) : (
        <p className="mt-1 text-sm text-slate-600">
          Campaigns will show here once someone creates one.
        </p>
      )}
    </div>
  );
}

const STATUS_LABELS: Record<CampaignStatus, string> = {
  DRAFT: "Drafts",
  SCHEDULED: "Scheduled",
  PENDING: "Pending",
  PROCESSING: "Sending",
  PAUSED: "Paused",
  COMPLETED: "Completed",
  FAILED: "Failed",
  CANCELLED: "Cancelled",
};

/**
 * The list's filters: one link per status (the current one marked) and a subject search (a GET
 * form), so both live in the URL, survive a reload and work without JavaScript.
 */
function CampaignFilters({ filter }: { filter: CampaignListFilter }) {
  const tabs: { label: string; status?: CampaignStatus }[] = [
    { label: "All" },
    ...CAMPAIGN_STATUSES.map((status) => ({ label: STATUS_LABELS[status], status })),
  ];
  return (
    <div className="mb-4 flex flex-wrap items-center justify-between gap-3">
      <nav aria-label="Filter by status">
        <ul className="flex flex-wrap gap-1">
          {tabs.map(({ label, status }) => {
            const current = filter.status === status;
            return (
              <li key={label}>
                <Link
                  href={campaignListHref({ status, q: filter.q })}
                  aria-current={current ? "page" : undefined}
                  className={`rounded-md px-3 py-1.5 text-sm font-medium ${
                    current
                      ? "bg-slate-900 text-white"
                      : "text-slate-700 hover:bg-slate-100 hover:text-slate-900"
                  }`}
                >
                  {label}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <Form role="search" action="/" className="flex gap-2">
        {filter.status && <input type="hidden" name="status" value={filter.status.toLowerCase()} />}
        <label htmlFor="campaign-search" className="sr-only">
          Search subjects
        </label>
        <input
          id="campaign-search"
          type="search"
          name="q"
          defaultValue={filter.q ?? ""}
          maxLength={255}
          placeholder="Search subjects"
          className="w-48 rounded-md border border-slate-300 px-3 py-1.5 text-sm"
        />
        <button type="submit" className={buttonSecondary}>
          Search
        </button>
      </Form>
    </div>
  );
}

/**
 * The campaigns, newest first, refreshed every 1.5 s while any of them is still sending, and just
 * after a scheduled one on the page is due.
 */
export function CampaignList({
  page,
  filter = {},
}: {
  page: number;
  filter?: CampaignListFilter;
}) {
  const query = useApiQuery({
    ...campaignPageQuery(queries(), page, filter),
    placeholderData: keepPreviousData,
  });
  // While a failing page is retried, its error shows rather than the previous page.
  const error = query.error ?? query.failureReason ?? undefined;
  const loading = query.isPlaceholderData;
  const data = loading && error ? undefined : query.data;
  const live = !loading && data !== undefined && hasActive(data);
  const refresh = () => void query.refetch();

  if (!data) {
    if (error) {
      return (
        <LoadFailed
          title="The campaigns could not be loaded."
          message={error.unreachable ? "The Paloma API cannot be reached." : error.message}
          onRetry={refresh}
        />
      );
    }
    return <PageLoading label="Loading campaigns" />;
  }

  const filtered = filter.status !== undefined || filter.q !== undefined;
  if (data.total === 0 && !filtered) return <NoCampaignsYet />;

  if (data.items.length === 0) {
    return (
      <>
        <CampaignFilters filter={filter} />
        <div className="rounded-lg border border-slate-200 bg-white px-6 py-10 text-center text-sm text-slate-700">
          {data.total === 0 ? (
            <>
              <p>No campaign matches.</p>
              <Link href="/" className={`${buttonSecondary} mt-4`}>
                Show every campaign
              </Link>
            </>
          ) : (
            <>
              <p>There are no campaigns on page {page}.</p>
              <Link href={campaignListHref(filter)} className={`${buttonSecondary} mt-4`}>
                Go to the first page
              </Link>
            </>
          )}
        </div>
      </>
    );
  }

  const totalPages = Number(data.totalPages);
  return (
    <div aria-busy={loading}>
      <CampaignFilters filter={filter} />
      <p className="mb-3 flex items-center gap-2 text-sm text-slate-600" aria-live="off">
        <span className="tabular-nums">
          {formatCount(Number(data.total))} {data.total === 1 ? "campaign" : "campaigns"}
        </span>
        {live && (
          <span className="inline-flex items-center gap-1.5 text-blue-800">
            <span aria-hidden="true" className="size-2 animate-pulse rounded-full bg-blue-600" />
            Updating live
          </span>
        )}
      </p>
      <ul className="space-y-3" aria-label="Campaigns">
        {data.items.map((c) => (
          <CampaignRow key={c.id} campaign={c} />
        ))}
      </ul>
      <Pagination
        page={page}
        totalPages={totalPages}
        hrefFor={(p) => campaignListHref(filter, p)}
        label="Campaign pages"
      />
    </div>
  );
}
