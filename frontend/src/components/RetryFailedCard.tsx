"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api } from "@/lib/api/client";
import { ApiError, unwrap } from "@/lib/api/errors";
import type { Campaign } from "@/lib/api/types";
import { plural } from "@/lib/format";
import { useMe } from "@/lib/queries";
import { can } from "@/lib/scopes";

import { ConfirmAction } from "./ConfirmAction";

function retryFailure(error: unknown): string {
  if (!(error instanceof ApiError)) return "The failed recipients could not be retried. Try again.";
  if (error.status === 409) return "This campaign is being sent again already.";
  if (error.status === 403) return "Your key may not send campaigns.";
  if (error.status === 404) return "This campaign no longer exists.";
  if (error.unreachable) return "The Paloma API cannot be reached, so nothing was retried. Try again.";
  return error.message;
}

/** Whether the campaign offers "Retry failed": it has finished with failures. */
export function offersRetry(campaign: Campaign): boolean {
  return (
    (campaign.status === "COMPLETED" || campaign.status === "FAILED") && campaign.failedEmails > 0
  );
}

/**
 * A finished campaign's failed recipients, sent again on request (only for a key that may send
 * campaigns). By default the server's permanent refusals stay failed: sending to an address
 * that does not exist again only hurts the sender's reputation.
 */
export function RetryFailedCard({ campaign }: { campaign: Campaign }) {
  const canSend = can(useMe(), "campaigns:send");
  const queryClient = useQueryClient();
  const [step, setStep] = useState<"idle" | "confirm" | "retrying">("idle");
  const [transientOnly, setTransientOnly] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);

  if (!canSend || (!offersRetry(campaign) && outcome === null)) return null;
  const failed = plural(campaign.failedEmails, "failed recipient", "failed recipients");

  async function retry() {
    setStep("retrying");
    setError(null);
    try {
      const answer = await unwrap(
        api().POST("/api/emails/{id}/retry-failed", {
          params: { path: { id: campaign.id } },
          body: transientOnly ? { only: "transient" } : {},
        }),
      );
      setOutcome(
        answer.requeued > 0
          ? `${plural(answer.requeued, "recipient", "recipients")} queued again.`
          : "Nothing to retry: every failure left is a permanent refusal.",
      );
      setStep("idle");
      await queryClient.invalidateQueries({
        predicate: (query) => JSON.stringify(query.queryKey).includes(campaign.id),
      });
    } catch (caught) {
      setError(retryFailure(caught));
      setStep("idle");
    }
  }

  return (
    <section
      aria-labelledby="retry-heading"
      className="rounded-lg border border-amber-200 bg-amber-50 p-4 text-sm text-amber-950 sm:p-5"
    >
      <h2 id="retry-heading" className="text-base font-semibold">
        Retry failed recipients
      </h2>
      {outcome ? (
        <p role="status" className="mt-1">
          {outcome}
        </p>
      ) : (
        <p className="mt-1">
          This campaign has {failed}. Retrying sends them their message again; everyone else is
          left alone.
        </p>
      )}
      {error && (
        <p role="alert" className="mt-3 font-medium text-red-800">
          {error}
        </p>
      )}
      {offersRetry(campaign) && (
        <ConfirmAction
          label="Retry failed"
          confirmLabel="Yes, retry"
          confirming={step === "confirm"}
          busy={step === "retrying"}
          onAsk={() => setStep("confirm")}
          onConfirm={() => void retry()}
          onCancel={() => setStep("idle")}
        >
          <label className="flex items-center gap-2">
            <input
              type="checkbox"
              checked={transientOnly}
              disabled={step === "retrying"}
              onChange={(event) => setTransientOnly(event.target.checked)}
            />
            Leave addresses the server refused for good (5xx) failed
          </label>
        </ConfirmAction>
      )}
    </section>
  );
}
