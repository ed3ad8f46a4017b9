"use client";

import Link from "next/link";
import { useState } from "react";

import { isActive, type Campaign } from "@/lib/api/types";
import { formatCount, formatDateTime, formatDuration, formatRate, plural } from "@/lib/format";
import type { RecipientFilter } from "@/lib/params";
import {
  addSample,
  averageRate,
  breakdown,
  countsOf,
  etaSeconds,
  smoothedRate,
  type Sample,
} from "@/lib/progress";
import { campaignBodyQuery, campaignQuery, phaseOf, queries, useApiQuery } from "@/lib/queries";

import { ActivityCard } from "./ActivityCard";
import { CampaignActions } from "./CampaignActions";
import { CampaignControlsCard } from "./CampaignControls";
import { DraftCard } from "./DraftCard";
import { RetryFailedCard } from "./RetryFailedCard";
import { HtmlPreview } from "./HtmlPreview";
import { ProgressBar } from "./ProgressBar";
import { RecipientsCard } from "./RecipientsCard";
import { ScheduledCard } from "./ScheduledCard";
import { StatusBadge } from "./StatusBadge";
import { StoppedCard } from "./StoppedCard";
import { TimelineCard } from "./TimelineCard";
import { Card, LoadFailed, PageLoading, Spinner, Stat, Swatch, buttonSecondary } from "./ui";

interface Props {
  id: string;
  filter: RecipientFilter;
  page: number;
}

function Speed({
  campaign,
  samples,
  readAt,
}: {
  campaign: Campaign;
  samples: readonly Sample[];
  /** When the campaign was read (ms), for how long until it starts. */
  readAt: number;
}) {
  const done = campaign.sentEmails + campaign.failedEmails;
  if (campaign.status === "SCHEDULED") {
    const due = campaign.scheduledAt ? (Date.parse(campaign.scheduledAt) - readAt) / 1000 : NaN;
    return (
      <>
        <Stat label="Send rate" value="—" hint="Not started yet" />
        <Stat
          label="Starts in"
          value={Number.isNaN(due) ? "—" : due > 0 ? `~${formatDuration(due)}` : "Starting…"}
          hint="Scheduled"
        />
      </>
    );
  }
  if (campaign.status === "DRAFT") {
    return (
      <>
        <Stat label="Send rate" value="—" hint="Not sent yet" />
        <Stat label="Time left" value="—" hint="A draft" />
      </>
    );
  }
  if (campaign.status === "PENDING") {
    return (
      <>
        <Stat label="Send rate" value="—" hint={waitingHint(campaign.queuedBehind)} />
        <Stat label="Time left" value="—" hint="Not started yet" />
      </>
    );
  }
  if (campaign.status === "PAUSED") {
    // A paused campaign is not sending: no rate, and no time left until someone resumes it.
    return (
      <>
        <Stat label="Send rate" value="—" hint="Not sending" />
        <Stat label="Time left" value="Paused" hint="Until resumed" />
      </>
    );
  }
  if (campaign.status === "PROCESSING") {
    // Smoothed over the last polls, and not said before a few seconds of them: the first
    // answers after a start come in bursts that would make the time left jump about.
    const rate = smoothedRate(samples);
    const eta = etaSeconds(campaign.pendingEmails, rate);
    return (
      <>
        <Stat
          label="Send rate"
          value={formatRate(rate)}
          hint={rate === null ? "Measuring…" : "Recent average"}
        />
        <Stat
          label="Time left"
          value={eta === null ? "—" : `~${formatDuration(eta)}`}
          hint={rate === null ? "Estimating…" : rate === 0 ? "No progress lately" : "Estimated"}
        />
      </>
    );
  }
  const started = campaign.startedAt ? Date.parse(campaign.startedAt) : NaN;
  const completed = campaign.completedAt ? Date.parse(campaign.completedAt) : NaN;
  const duration = (completed - started) / 1000;
  return (
    <>
      <Stat
        label="Average rate"
        value={formatRate(averageRate(done, campaign.startedAt, campaign.completedAt))}
      />
      <Stat
        label="Duration"
        value={Number.isFinite(duration) ? formatDuration(duration) : "—"}
        hint={campaign.status === "CANCELLED" ? "Until cancelled" : undefined}
      />
    </>
  );
}

function Overview({
  campaign,
  samples,
  readAt,
}: {
  campaign: Campaign;
  samples: readonly Sample[];
  readAt: number;
}) {
  const counts = countsOf(campaign);
  const cancelled = counts.cancelled ?? 0;
  const suppressed = counts.suppressed ?? 0;
  const b = breakdown(counts);
  const recipientsHint = [
    suppressed > 0 ? `${formatCount(suppressed)} suppressed` : null,
    campaign.duplicatesRemoved > 0
      ? `${formatCount(campaign.duplicatesRemoved)} duplicate${campaign.duplicatesRemoved === 1 ? "" : "s"} removed`
      : null,
  ].filter((part) => part !== null);
  return (
    <CampaignControlsCard campaign={campaign} title="Delivery" headingId="delivery-heading">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <p className="text-3xl font-bold tabular-nums text-slate-900">
          {b.done}%<span className="ml-2 text-base font-medium text-slate-600">done</span>
        </p>
        <p className="flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600 tabular-nums">
          <span className="inline-flex items-center gap-1.5">
            <Swatch tone="sent" /> Sent {b.rounded.sent}%
          </span>
          <span className="inline-flex items-center gap-1.5">
            <Swatch tone="failed" /> Failed {b.rounded.failed}%
          </span>
          {cancelled > 0 && (
            <span className="inline-flex items-center gap-1.5">
              <Swatch tone="cancelled" /> Cancelled {b.rounded.cancelled}%
            </span>
          )}
          {suppressed > 0 && (
            <span className="inline-flex items-center gap-1.5">
              <Swatch tone="suppressed" /> Suppressed {b.rounded.suppressed}%
            </span>
          )}
          <span className="inline-flex items-center gap-1.5">
            <Swatch tone="remaining" /> Remaining {b.rounded.remaining}%
          </span>
        </p>
      </div>
      <div className="mt-3">
        <ProgressBar counts={counts} label="Delivery progress" size="lg" />
      </div>
      <dl className="mt-5 grid grid-cols-2 gap-x-4 gap-y-5 sm:grid-cols-3 lg:grid-cols-6">
        <Stat label="Sent" value={formatCount(counts.sent)} tone="sent" />
        <Stat label="Failed" value={formatCount(counts.failed)} tone="failed" />
        {cancelled > 0 ? (
          // Cancelling leaves nothing pending: the recipients it left unsent take that place.
          <Stat
            label="Cancelled"
            value={formatCount(cancelled)}
            hint={
              counts.pending > 0 ? `${formatCount(counts.pending)} remaining` : "Will not be sent"
            }
          />
        ) : (
          <Stat label="Remaining" value={formatCount(counts.pending)} />
        )}
        <Stat
          label="Recipients"
          value={formatCount(counts.total)}
          hint={
            recipientsHint.length > 0
              ? recipientsHint.map((part) => (
                  <span key={part} className="block">
                    {part}
                  </span>
                ))
              : undefined
          }
        />
        <Speed campaign={campaign} samples={samples} readAt={readAt} />
      </dl>
      {suppressed > 0 && (
        // Known with the page's first read; it changes only when a worker starts the campaign
        // (addresses suppressed since it was stored), never while a finished one loads.
        <p className="mt-4 flex items-start gap-1.5 text-xs text-slate-600" data-testid="suppressed-note">
          <span className="mt-0.5">
            <Swatch tone="suppressed" />
          </span>
          <span>
            Suppressed: on the{" "}
            <Link href="/suppressions" className="text-blue-800 underline hover:text-blue-950">
              suppression list
            </Link>{" "}
            when the campaign was stored or started sending; never sent.
          </span>
        </p>
      )}
    </CampaignControlsCard>
  );
}

/** A campaign's own sender as a header shows it: "The Acme team <news@acme.example>". */
export function formatSender(from: Campaign["from"]): string | null {
  if (!from) return null;
  return from.name ? `${from.name} <${from.email}>` : from.email;
}

function MessageCard({
  id,
  subject,
  mergeTags,
  from,
  replyTo,
}: {
  id: string;
  subject: string;
  mergeTags: boolean;
  from: Campaign["from"];
  replyTo: Campaign["replyTo"];
}) {
  const { data, error, failureReason } = useApiQuery(campaignBodyQuery(queries(), id));
  const sender = formatSender(from);
  return (
    <Card title="Message" headingId="message-heading">
      {/* Only a campaign's own sender is named: without one, the server's MAIL_FROM sends it. */}
      {sender && (
        <p className="text-sm text-slate-600" data-testid="campaign-from">
          From: <span className="font-medium break-words text-slate-900">{sender}</span>
        </p>
      )}
      {replyTo && (
        <p className="text-sm text-slate-600" data-testid="campaign-reply-to">
          Reply-To: <span className="font-medium break-words text-slate-900">{replyTo}</span>
        </p>
      )}
      <p className="text-sm text-slate-600">
        Subject: <span className="font-medium break-words text-slate-900">{subject}</span>
      </p>
      {mergeTags && (
        <p className="mt-1 text-sm text-slate-600">
          Personalised: its merge tags are filled in for each recipient when sent. Shown here as
          written.
        </p>
      )}
      <div className="mt-3">
        {/* The preview's box has its height before the body arrives: nothing below moves. */}
        {data?.body != null ? (
          <HtmlPreview html={data.body} title="Email preview" className="h-96" />
        ) : (
          <div className="flex h-96 items-center justify-center rounded-md border border-slate-200 bg-slate-50">
            {(error ?? failureReason) ? (
              <p className="text-sm text-slate-600">The message body could not be loaded.</p>
            ) : (
              <Spinner label="Loading the message" />
            )}
          </div>
        )}
      </div>
    </Card>
  );
}

/**
 * One campaign, live: progress, speed, chart, message, recipients and who did what; when a
 * scheduled one goes out, and why the worker stopped one. A key that may send can send a draft
 * from here, send a scheduled one now or reschedule it, and pause, resume or cancel the
 * campaign.
 */
export function CampaignDetail({ id, filter, page }: Props) {
  const query = useApiQuery(campaignQuery(queries(), id));
  const { data: campaign, dataUpdatedAt } = query;
  const error = query.error ?? query.failureReason ?? undefined;
  const live = campaign !== undefined && query.status === "success" && isActive(campaign.status);
  const refresh = () => void query.refetch();

  // One sample per answer, taken while rendering it, for the send rate. A pause starts it over:
  // the time spent paused is not sending time.
  const [samples, setSamples] = useState<Sample[]>([]);
  const [sampledAt, setSampledAt] = useState(0);
  if (campaign && dataUpdatedAt !== sampledAt) {
    setSampledAt(dataUpdatedAt);
    setSamples((prev) =>
      isActive(campaign.status)
        ? addSample(prev, { at: dataUpdatedAt, done: campaign.sentEmails + campaign.failedEmails })
        : [],
    );
  }

  if (!campaign) {
    if (error && (error.status === 404 || error.status === 400)) {
      return (
        <div className="rounded-lg border border-slate-200 bg-white px-6 py-12 text-center">
          <h1 className="text-xl font-semibold text-slate-900">Campaign not found</h1>
          <p className="mt-1 text-sm text-slate-600">
            There is no campaign with the id <span className="font-mono break-all">{id}</span>.
          </p>
          <Link href="/" className={`${buttonSecondary} mt-5`}>
            Back to the campaigns
          </Link>
        </div>
      );
    }
    if (error) {
      return (
        <LoadFailed
          title="The campaign could not be loaded."
          message={error.unreachable ? "The Paloma API cannot be reached. Retrying…" : error.message}
          onRetry={refresh}
        />
      );
    }
    return <PageLoading label="Loading the campaign" />;
  }

  const phase = phaseOf(campaign.status);
  return (
    <div className="space-y-6">
      <div>
        <div className="flex flex-wrap items-start gap-x-3 gap-y-2">
          <h1 className="min-w-0 text-2xl font-bold tracking-tight break-words text-slate-900">
            {campaign.subject}
          </h1>
          <div className="flex items-center gap-2 pt-1">
            <StatusBadge status={campaign.status} />
            {campaign.mergeTags && (
              <span
                className="inline-flex shrink-0 items-center rounded-full bg-teal-50 px-2.5 py-0.5 text-xs font-semibold text-teal-900 ring-1 ring-teal-200 ring-inset"
                title="Its subject or body has merge tags: each recipient gets a message of their own"
              >
                Personalised
              </span>
            )}
            {live && (
              <span className="inline-flex items-center gap-1.5 text-xs font-medium text-blue-800">
                <span aria-hidden="true" className="size-2 animate-pulse rounded-full bg-blue-600" />
                Live
              </span>
            )}
          </div>
        </div>
        <dl className="mt-2 flex flex-wrap gap-x-5 gap-y-1 text-sm text-slate-600">
          <div className="flex gap-1">
            <dt>Created</dt>
            <dd>
              <time dateTime={campaign.createdAt}>{formatDateTime(campaign.createdAt, true)}</time>
            </dd>
          </div>
          {campaign.startedAt && (
            <div className="flex gap-1">
              <dt>Started</dt>
              <dd>
                <time dateTime={campaign.startedAt}>
                  {formatDateTime(campaign.startedAt, true)}
                </time>
              </dd>
            </div>
          )}
          {campaign.completedAt && (
            <div className="flex gap-1">
              <dt>
                {campaign.status === "FAILED"
                  ? "Stopped"
                  : campaign.status === "CANCELLED"
                    ? "Cancelled"
                    : "Completed"}
              </dt>
              <dd>
                <time dateTime={campaign.completedAt}>
                  {formatDateTime(campaign.completedAt, true)}
                </time>
              </dd>
            </div>
          )}
        </dl>
      </div>

      {campaign.stopReason && <StoppedCard campaign={campaign} />}
      <CampaignActions campaign={campaign} />
      {campaign.status === "DRAFT" && <DraftCard campaign={campaign} />}
      <ScheduledCard campaign={campaign} />
      <RetryFailedCard campaign={campaign} />

      <Overview campaign={campaign} samples={samples} readAt={dataUpdatedAt} />

      <div className="grid gap-6 lg:grid-cols-2 lg:items-start">
        <TimelineCard campaignId={id} phase={phase} />
        <MessageCard
          id={id}
          subject={campaign.subject}
          mergeTags={campaign.mergeTags}
          from={campaign.from}
          replyTo={campaign.replyTo}
        />
      </div>

      <RecipientsCard campaign={campaign} filter={filter} page={page} phase={phase} />

      <ActivityCard campaignId={id} status={campaign.status} />
    </div>
  );
}

/**
 * Why a pending campaign has not started: the campaigns before it in the queue, when the API
 * counted them (its own page's read), or a worker not having taken it yet.
 */
export function waitingHint(queuedBehind: number | null | undefined): string {
  if (queuedBehind === null || queuedBehind === undefined || queuedBehind === 0) {
    return "Waiting for a worker";
  }
  return `Queued behind ${plural(queuedBehind, "campaign", "campaigns")}`;
}
