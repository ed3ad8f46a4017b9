"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api } from "@/lib/api/client";
import { ApiError, unwrap } from "@/lib/api/errors";
import type { Campaign } from "@/lib/api/types";
import { plural } from "@/lib/format";
import { useMe } from "@/lib/queries";
import { formatSendTime } from "@/lib/schedule";
import { can } from "@/lib/scopes";
import { usePassed, useTimeZone } from "@/lib/use-schedule";

import { ConfirmAction } from "./ConfirmAction";

function sendFailure(error: unknown): string {
  if (!(error instanceof ApiError)) return "The campaign could not be sent. Try again.";
  if (error.status === 409) {
    return "This campaign is no longer a draft: someone has sent it already.";
  }
  if (error.status === 403) return "Your key may not send campaigns.";
  if (error.status === 404) return "This campaign no longer exists.";
  if (error.unreachable) return "The Paloma API cannot be reached, so nothing was sent. Try again.";
  return error.message;
}

/**
 * A draft's notice: it has not been sent. A key that may send campaigns gets "Send now" (with a
 * confirmation, as it cannot be undone), which queues it as if it had just been created; others
 * are told it waits for someone who may. A draft with a send time still ahead is scheduled for
 * it when sent ("Schedule" then); one whose time has passed is sent at once.
 */
export function DraftCard({ campaign }: { campaign: Campaign }) {
  const canSend = can(useMe(), "campaigns:send");
  const queryClient = useQueryClient();
  const [step, setStep] = useState<"idle" | "confirm" | "sending">("idle");
  const [error, setError] = useState<string | null>(null);
  const recipients = plural(campaign.totalEmails, "recipient", "recipients");
  const timeZone = useTimeZone();
  const scheduledAt = campaign.scheduledAt ?? null;
  const passed = usePassed(scheduledAt);
  // Sending it schedules it for its time, while that is ahead.
  const schedules = scheduledAt !== null && !passed;
  const when = scheduledAt ? formatSendTime(scheduledAt, timeZone) : "";

  /** Reads everything about this campaign again: its status, counters and activity. */
  function refresh() {
    return queryClient.invalidateQueries({
      predicate: (query) => JSON.stringify(query.queryKey).includes(campaign.id),
    });
  }

  async function send() {
    setStep("sending");
    setError(null);
    try {
      await unwrap(
        api().POST("/api/emails/{id}/send", { params: { path: { id: campaign.id } } }),
      );
      await refresh();
    } catch (caught) {
      setError(sendFailure(caught));
      setStep("idle");
      if (caught instanceof ApiError && caught.status === 409) await refresh();
    }
  }

  return (
    <section
      aria-labelledby="draft-heading"
      className="rounded-lg border border-violet-200 bg-violet-50 p-4 text-sm text-violet-950 sm:p-5"
    >
      <h2 id="draft-heading" className="text-base font-semibold">
        This campaign is a draft
      </h2>
      <p className="mt-1">
        {canSend
          ? `Nothing has been sent yet. Sending it queues it for its ${recipients}.`
          : `Nothing has been sent yet. It waits for someone whose key may send campaigns; it will go to its ${recipients}.`}
      </p>
      {scheduledAt && (
        <p className="mt-1">
          {schedules ? "Will be scheduled for " : "Its send time, "}
          <time dateTime={scheduledAt} className="font-semibold" suppressHydrationWarning>
            {when}
          </time>
          {schedules ? ", when sent." : ", has passed: once sent, it goes out at once."}
        </p>
      )}
      {error && (
        <p role="alert" className="mt-3 font-medium text-red-800">
          {error}
        </p>
      )}
      {canSend && (
        <ConfirmAction
          label={schedules ? "Schedule" : "Send now"}
          confirmLabel={schedules ? "Yes, schedule it" : "Yes, send it"}
          confirming={step === "confirm"}
          busy={step === "sending"}
          onAsk={() => setStep("confirm")}
          onConfirm={() => void send()}
          onCancel={() => setStep("idle")}
        >
          <span className="font-medium">
            {schedules
              ? `Schedule it to go to ${recipients} by itself at ${when}?`
              : `Send it to ${recipients} now? This cannot be undone.`}
          </span>
        </ConfirmAction>
      )}
    </section>
  );
}
