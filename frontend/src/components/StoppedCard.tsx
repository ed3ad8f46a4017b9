"use client";

import type { Campaign } from "@/lib/api/types";
import { plural } from "@/lib/format";
import { useMe } from "@/lib/queries";
import { can } from "@/lib/scopes";

import { offersRetry } from "./RetryFailedCard";

/**
 * A worker's stop reason as a sentence. The worker writes it as its unsent recipients' error
 * ("not sent: the campaign was stopped after ..."); the campaign's own notice leaves out the
 * "not sent: ", which the recipients' rows say.
 */
export function describeStopReason(reason: string): string {
  const text = reason.trim().replace(/^not sent:\s*/i, "");
  if (!text) return "The worker stopped sending this campaign.";
  const sentence = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

/**
 * Why the worker stopped a campaign before every recipient was tried (`stopReason`: the failure
 * threshold, or too many failed runs), at the top of its page. Its unsent recipients count as
 * failed; "Retry failed" sends them again, for a key that may send campaigns.
 */
export function StoppedCard({ campaign }: { campaign: Campaign }) {
  const canSend = can(useMe(), "campaigns:send");
  if (!campaign.stopReason) return null;
  const retry = offersRetry(campaign);
  return (
    <div
      role="alert"
      aria-labelledby="stopped-heading"
      className="rounded-lg border border-red-300 bg-red-50 p-4 text-sm text-red-950 sm:p-5"
    >
      <h2 id="stopped-heading" className="text-base font-semibold">
        Stopped before every recipient was tried
      </h2>
      <p className="mt-1">{describeStopReason(campaign.stopReason)}</p>
      {typeof campaign.untriedEmails === "number" && (
        <p className="mt-1" data-testid="untried">
          {untriedSummary(campaign.untriedEmails, campaign.failedEmails)}
        </p>
      )}
      {retry && (
        <p className="mt-1">
          {canSend
            ? "The recipients it did not try count as failed: “Retry failed” below sends them " +
              "their message, once the cause is fixed."
            : "The recipients it did not try count as failed: someone whose key may send " +
              "campaigns can retry them once the cause is fixed."}
        </p>
      )}
    </div>
  );
}

/** Of a stopped campaign's failed recipients, how many were never tried and how many failed. */
export function untriedSummary(untried: number, failed: number): string {
  const tried = Math.max(failed - untried, 0);
  return `${plural(untried, "recipient was", "recipients were")} never tried; ${plural(tried, "failed", "failed")} when tried.`;
}
