"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type ReactNode } from "react";

import { api } from "@/lib/api/client";
import { ApiError, unwrap } from "@/lib/api/errors";
import type { Campaign, CampaignStatus } from "@/lib/api/types";
import { plural } from "@/lib/format";
import { CAMPAIGN_STATUSES } from "@/lib/params";
import { useMe } from "@/lib/queries";
import { can } from "@/lib/scopes";

import { ConfirmPrompt } from "./ConfirmAction";
import { statusLabel } from "./StatusBadge";
import { buttonDangerOutline, buttonSecondary, ButtonSpinner, Card } from "./ui";

export type Move = "pause" | "resume" | "cancel";

/** The moves a campaign's status allows (the API answers 409 `invalid_state` to the others). */
export function allowedMoves(status: CampaignStatus): Record<Move, boolean> {
  return {
    pause: status === "PENDING" || status === "PROCESSING",
    resume: status === "PAUSED",
    cancel:
      status === "DRAFT" ||
      status === "SCHEDULED" ||
      status === "PENDING" ||
      status === "PROCESSING" ||
      status === "PAUSED",
  };
}

const DONE: Record<Move, string> = { pause: "paused", resume: "resumed", cancel: "cancelled" };

/** Whether `status` is where `move` leads: someone else made the same move first. */
function reached(move: Move, status: CampaignStatus): boolean {
  if (move === "pause") return status === "PAUSED";
  if (move === "cancel") return status === "CANCELLED";
  return status === "PENDING" || status === "PROCESSING";
}

/** The campaign's status named by a 409 `invalid_state` (`details.status`), if it is one. */
export function currentStatus(error: ApiError): CampaignStatus | undefined {
  const details: unknown = error.details;
  if (typeof details !== "object" || details === null || !("status" in details)) return undefined;
  const { status } = details;
  return (CAMPAIGN_STATUSES as readonly unknown[]).includes(status)
    ? (status as CampaignStatus)
    : undefined;
}

/** What to say when `move` failed. */
export function moveFailure(move: Move, error: unknown): string {
  if (!(error instanceof ApiError)) return `The campaign could not be ${DONE[move]}. Try again.`;
  if (error.status === 409) {
    const status = currentStatus(error);
    if (status === undefined) {
      return `This campaign has moved on meanwhile, so it can no longer be ${DONE[move]}.`;
    }
    if (reached(move, status)) return `Someone has ${DONE[move]} this campaign already.`;
    const now = status === "DRAFT" ? "a draft" : statusLabel(status).toLowerCase();
    return (
      `This campaign has moved on meanwhile: it is ${now} now, ` +
      `so it can no longer be ${DONE[move]}.`
    );
  }
  if (error.status === 403) return `Your key may not ${move} campaigns.`;
  if (error.status === 404) return "This campaign no longer exists.";
  if (error.unreachable) {
    return `The Paloma API cannot be reached, so the campaign was not ${DONE[move]}. Try again.`;
  }
  return error.message;
}

/** Said to screen readers once a move is done (the badge says it to everyone else). */
const ANNOUNCED: Record<Move, string> = {
  pause: "The campaign is paused.",
  resume: "The campaign is resumed.",
  cancel: "The campaign is cancelled.",
};

/**
 * How long after a cancel its counters are read once more: the messages in flight when it was
 * cancelled are recorded as what became of them, a moment after the answer.
 */
export const SETTLE_READ_MS = 3000;

const whileBusy = "aria-disabled:cursor-not-allowed aria-disabled:text-slate-500";
const toggleClass = `${buttonSecondary} min-w-20 ${whileBusy}`;
const cancelClass = `${buttonDangerOutline} ${whileBusy}`;

type Step = "idle" | "confirm" | Move;

/**
 * A card (`title`, `children`) whose header holds the campaign's controls: pause, resume and
 * cancel, for a key that may send campaigns, each shown only while the campaign's status allows
 * its move. The header keeps a button's height whether they show or not, so nothing below moves
 * when they come and go. Pause and resume happen at once (one button, which keeps focus as it
 * turns from one into the other); cancel, which cannot be undone, asks first, at the top of the
 * card, and says how many recipients will not be sent. After a move, everything read about the
 * campaign is read again.
 */
export function CampaignControlsCard({
  campaign,
  title,
  headingId,
  children,
}: {
  campaign: Campaign;
  title: string;
  headingId: string;
  children: ReactNode;
}) {
  const canSend = can(useMe(), "campaigns:send");
  const queryClient = useQueryClient();
  const [step, setStep] = useState<Step>("idle");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const panelId = useId();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const settleTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(settleTimer.current), []);

  const allowed = allowedMoves(campaign.status);
  const busy = step === "pause" || step === "resume" || step === "cancel";
  const id = campaign.id;

  /** Reads everything about this campaign again: its status, counters and activity. */
  function refresh() {
    return queryClient.invalidateQueries({
      predicate: (query) => JSON.stringify(query.queryKey).includes(id),
    });
  }

  function post(move: Move) {
    const init = { params: { path: { id } } };
    if (move === "pause") return unwrap(api().POST("/api/emails/{id}/pause", init));
    if (move === "resume") return unwrap(api().POST("/api/emails/{id}/resume", init));
    return unwrap(api().POST("/api/emails/{id}/cancel", init));
  }

  async function run(move: Move) {
    if (busy) return;
    setStep(move);
    setError(null);
    setNotice(null);
    setAnnouncement("");
    try {
      const answer = await post(move);
      if (answer.worker === "unconfirmed") {
        setNotice(
          `The campaign is ${DONE[move]}, but not every worker sending it has confirmed yet ` +
            "that it stopped; a few more messages may leave before they do.",
        );
      }
      setAnnouncement(ANNOUNCED[move]);
      await refresh();
      if (move === "cancel") {
        clearTimeout(settleTimer.current);
        settleTimer.current = setTimeout(() => void refresh(), SETTLE_READ_MS);
      }
    } catch (caught) {
      setError(moveFailure(move, caught));
      if (caught instanceof ApiError && caught.status === 409) await refresh();
    }
    setStep("idle");
    // A cancel (done or refused) leaves no prompt and perhaps no button: focus goes to the
    // card's heading, where the outcome is. Pause and resume keep focus on their button.
    if (move === "cancel") headingRef.current?.focus();
  }

  function dismiss() {
    setStep("idle");
    cancelRef.current?.focus();
  }

  const showToggle = canSend && (allowed.pause || allowed.resume);
  const showCancel = canSend && allowed.cancel;
  const pending = campaign.pendingEmails;
  // The campaign moved on while the question was open (it finished, say): the question goes.
  if (step === "confirm" && !showCancel) setStep("idle");

  const buttons = (
    <div
      role={showToggle || showCancel ? "group" : undefined}
      aria-label={showToggle || showCancel ? "Campaign controls" : undefined}
      className="flex min-h-10 flex-wrap items-center gap-2"
    >
      {showToggle && (
        <button
          type="button"
          className={toggleClass}
          aria-disabled={busy || undefined}
          onClick={() => void run(allowed.resume ? "resume" : "pause")}
        >
          {(step === "pause" || step === "resume") && (
            <ButtonSpinner light={false} />
          )}
          {allowed.resume ? "Resume" : "Pause"}
        </button>
      )}
      {showCancel && (
        <button
          ref={cancelRef}
          type="button"
          className={cancelClass}
          aria-disabled={busy || undefined}
          aria-expanded={step === "confirm" || step === "cancel"}
          aria-controls={panelId}
          onClick={() => {
            if (!busy) setStep("confirm");
          }}
        >
          Cancel campaign
        </button>
      )}
    </div>
  );

  const confirming = showCancel && (step === "confirm" || step === "cancel");
  const panel = (
    <div id={panelId}>
      {confirming && (
        <div
          className="mb-4 flex flex-wrap items-center gap-3 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-950"
        >
          <ConfirmPrompt
            confirmLabel="Yes, cancel it"
            dismissLabel="No, keep it"
            tone="danger"
            busy={step === "cancel"}
            onConfirm={() => void run("cancel")}
            onDismiss={dismiss}
          >
            <span className="font-medium">
              Cancel this campaign?{" "}
              {pending > 0
                ? `${plural(pending, "recipient", "recipients")} will not be sent.`
                : "No recipient is waiting to be sent."}{" "}
              This cannot be undone.
            </span>
          </ConfirmPrompt>
        </div>
      )}
      {error && (
        <p role="alert" className="mb-4 text-sm font-medium text-red-800">
          {error}
        </p>
      )}
      {notice && <p className="mb-4 text-sm text-amber-900">{notice}</p>}
      <p role="status" className="sr-only">
        {announcement}
      </p>
    </div>
  );

  return (
    <Card title={title} headingId={headingId} headingRef={headingRef} actions={buttons}>
      {panel}
      {children}
    </Card>
  );
}
