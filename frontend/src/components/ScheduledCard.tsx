"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import { api } from "@/lib/api/client";
import { ApiError, unwrap } from "@/lib/api/errors";
import { mapSubmitError } from "@/lib/api/submit-errors";
import type { Campaign } from "@/lib/api/types";
import { plural } from "@/lib/format";
import { useMe } from "@/lib/queries";
import {
  browserTimeZone,
  checkSendTime,
  formatSendTime,
  instantToLocal,
  pickerBounds,
} from "@/lib/schedule";
import { can } from "@/lib/scopes";
import { useTimeZone } from "@/lib/use-schedule";

import { currentStatus } from "./CampaignControls";
import { ConfirmPrompt } from "./ConfirmAction";
import { statusLabel } from "./StatusBadge";
import { FieldError, describedBy, fieldBorder, inputClass } from "./new-campaign/fields";
import { buttonPrimary, buttonSecondary, ButtonSpinner } from "./ui";

/** What the campaign is now, as a 409 `invalid_state` named it ("a draft", "cancelled"). */
function nowIs(error: ApiError): string | undefined {
  const status = currentStatus(error);
  if (status === undefined) return undefined;
  return status === "DRAFT" ? "a draft" : statusLabel(status).toLowerCase();
}

/** What to say when "Send now" failed. */
export function sendNowFailure(error: unknown): string {
  if (!(error instanceof ApiError)) return "The campaign could not be sent. Try again.";
  if (error.status === 409) {
    const status = currentStatus(error);
    if (status === "PENDING" || status === "PROCESSING") {
      return "This campaign is being sent already: its time came, or someone sent it.";
    }
    const now = nowIs(error);
    return now === undefined
      ? "This campaign is no longer scheduled, so it cannot be sent from here."
      : `This campaign is no longer scheduled: it is ${now} now, so it cannot be sent from here.`;
  }
  if (error.status === 403) return "Your key may not send campaigns.";
  if (error.status === 404) return "This campaign no longer exists.";
  if (error.unreachable) return "The Paloma API cannot be reached, so nothing was sent. Try again.";
  return error.message;
}

/**
 * What to say when "Reschedule" failed: `field` for what concerns the time picked (422), shown
 * on the picker; `message` for the rest.
 */
export function rescheduleFailure(error: unknown): { field?: string; message?: string } {
  if (!(error instanceof ApiError)) {
    return { message: "The campaign could not be rescheduled. Try again." };
  }
  if (error.status === 422) {
    const mapped = mapSubmitError(error);
    const field = mapped.fields.scheduledAt;
    return field ? { field } : { message: mapped.form ?? error.message };
  }
  if (error.status === 409) {
    const now = nowIs(error);
    return {
      message:
        now === undefined
          ? "This campaign is no longer scheduled, so it can no longer be rescheduled."
          : `This campaign is no longer scheduled: it is ${now} now, so it can no longer be rescheduled.`,
    };
  }
  if (error.status === 403) return { message: "Your key may not reschedule campaigns." };
  if (error.status === 404) return { message: "This campaign no longer exists." };
  if (error.unreachable) {
    return {
      message:
        "The Paloma API cannot be reached, so the campaign was not rescheduled. Try again.",
    };
  }
  return { message: error.message };
}

type Step = "idle" | "confirm" | "sending" | "edit" | "saving";

/**
 * A scheduled campaign's notice: when it goes out by itself (in the browser's time zone). A key
 * that may send campaigns can send it now instead (confirmed first, as it cannot be undone) or
 * pick another time; cancelling it is in the "Delivery" card, with the other controls. Others
 * see the time only. It renders nothing for a campaign that is not scheduled, unless a move of
 * its failed because the campaign moved on (it went out, or was cancelled): it stays to say so.
 */
export function ScheduledCard({ campaign }: { campaign: Campaign }) {
  const canSend = can(useMe(), "campaigns:send");
  const queryClient = useQueryClient();
  const timeZone = useTimeZone();
  const [step, setStep] = useState<Step>("idle");
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");
  // A move found the campaign moved on (409): the card stays to say so once it is not scheduled.
  const [movedOn, setMovedOn] = useState(false);
  const [value, setValue] = useState("");
  const [bounds, setBounds] = useState<{ min: string; max: string } | null>(null);
  const id = useId();
  const ids = { input: `${id}-at`, hint: `${id}-at-hint`, error: `${id}-at-error` };
  const sendRef = useRef<HTMLButtonElement>(null);
  const rescheduleRef = useRef<HTMLButtonElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  // The picker takes focus when it opens (not again while its time is saved).
  const picking = step === "edit" || step === "saving";
  useEffect(() => {
    if (picking) inputRef.current?.focus();
  }, [picking]);
  // When the question or the picker closes and focus went with it, it goes back to the button
  // that opened it, or to the card's heading when the campaign is no longer scheduled.
  const open = step !== "idle";
  const wasOpen = useRef(open);
  const openedBy = useRef<"send" | "reschedule">("send");
  useEffect(() => {
    const active = document.activeElement;
    if (wasOpen.current && !open && (active === null || active === document.body)) {
      const button = (openedBy.current === "send" ? sendRef : rescheduleRef).current;
      (button ?? headingRef.current)?.focus();
    }
    wasOpen.current = open;
  }, [open]);

  // When the card goes (the campaign went out, by itself or sent from elsewhere) while it holds
  // focus, an open question or picker included, focus goes to the "Delivery" card, where the
  // sending shows, rather than to the page's body.
  const scheduled = campaign.status === "SCHEDULED";
  const shown = scheduled || (movedOn && error !== null);
  const holdsFocus = useRef(false);
  const wasShown = useRef(shown);
  useEffect(() => {
    const active = document.activeElement;
    const lost = active === null || active === document.body;
    if (wasShown.current && !shown && holdsFocus.current && lost) {
      document.getElementById("delivery-heading")?.focus();
    }
    if (!shown) holdsFocus.current = false;
    wasShown.current = shown;
  }, [shown]);

  const scheduledAt = campaign.scheduledAt ?? null;
  const when = scheduledAt ? formatSendTime(scheduledAt, timeZone) : "a time not known";
  const recipients = plural(campaign.totalEmails, "recipient", "recipients");

  /** Reads everything about this campaign again: its status, counters and activity. */
  function refresh() {
    return queryClient.invalidateQueries({
      predicate: (query) => JSON.stringify(query.queryKey).includes(campaign.id),
    });
  }

  function close() {
    setStep("idle");
  }

  function askToSend() {
    openedBy.current = "send";
    setError(null);
    setAnnouncement("");
    setStep("confirm");
  }

  function openPicker() {
    openedBy.current = "reschedule";
    const zone = browserTimeZone();
    setValue(scheduledAt ? instantToLocal(scheduledAt, zone) : "");
    setBounds(pickerBounds(zone, Date.now()));
    setFieldError(null);
    setError(null);
    setAnnouncement("");
    setStep("edit");
  }

  async function sendNow() {
    setStep("sending");
    setError(null);
    setAnnouncement("");
    try {
      await unwrap(
        api().POST("/api/emails/{id}/send", { params: { path: { id: campaign.id } } }),
      );
      await refresh();
      // This card is gone with the schedule: focus goes to the "Delivery" card, where the
      // sending shows (its heading can take focus from script).
      document.getElementById("delivery-heading")?.focus();
    } catch (caught) {
      setError(sendNowFailure(caught));
      close();
      if (caught instanceof ApiError && caught.status === 409) {
        setMovedOn(true);
        await refresh();
      }
    }
  }

  async function reschedule(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (step === "saving") return;
    const zone = browserTimeZone();
    const checked = checkSendTime(value, zone, Date.now());
    if (!checked.ok) {
      setFieldError(checked.error);
      inputRef.current?.focus();
      return;
    }
    setStep("saving");
    setError(null);
    setFieldError(null);
    try {
      const moved = await unwrap(
        api().POST("/api/emails/{id}/reschedule", {
          params: { path: { id: campaign.id } },
          body: { scheduledAt: checked.scheduledAt },
        }),
      );
      setAnnouncement(
        `Rescheduled for ${formatSendTime(moved.scheduledAt ?? checked.scheduledAt, zone)}.`,
      );
      close();
      await refresh();
    } catch (caught) {
      const failure = rescheduleFailure(caught);
      if (failure.field) {
        setFieldError(failure.field);
        setStep("edit");
        inputRef.current?.focus();
        return;
      }
      setError(failure.message ?? null);
      close();
      if (caught instanceof ApiError && caught.status === 409) {
        setMovedOn(true);
        await refresh();
      }
    }
  }

  const onEscape = (event: KeyboardEvent) => {
    if (event.key === "Escape" && step === "edit") {
      event.preventDefault();
      close();
    }
  };

  // Once it is no longer scheduled the card goes, unless it says why a move of its failed.
  if (!shown) return null;

  let actions: React.ReactNode = null;
  if (!scheduled) {
    actions = null;
  } else if (canSend && (step === "idle" || step === "confirm" || step === "sending")) {
    actions =
      step === "idle" ? (
        <div className="mt-4 flex flex-wrap items-center gap-3">
          <button ref={sendRef} type="button" className={buttonPrimary} onClick={askToSend}>
            Send now
          </button>
          <button
            ref={rescheduleRef}
            type="button"
            className={buttonSecondary}
            onClick={openPicker}
          >
            Reschedule
          </button>
        </div>
      ) : (
        <div className="mt-4 flex flex-wrap items-center gap-3">
          <ConfirmPrompt
            confirmLabel="Yes, send it now"
            dismissLabel="No, keep the time"
            busy={step === "sending"}
            onConfirm={() => void sendNow()}
            onDismiss={() => close()}
          >
            <span className="font-medium">
              Send it to {recipients} now, instead of at its time? This cannot be undone.
            </span>
          </ConfirmPrompt>
        </div>
      );
  } else if (canSend) {
    const saving = step === "saving";
    actions = (
      <form
        onSubmit={(event) => void reschedule(event)}
        onKeyDown={onEscape}
        noValidate
        aria-label="Reschedule"
        className="mt-4"
      >
        <label htmlFor={ids.input} className="block font-semibold">
          New send time
        </label>
        <div className="mt-1.5 flex flex-wrap items-center gap-3">
          <input
            ref={inputRef}
            id={ids.input}
            type="datetime-local"
            value={value}
            min={bounds?.min}
            max={bounds?.max}
            readOnly={saving}
            onChange={(e) => {
              setValue(e.target.value);
              setFieldError(null);
            }}
            aria-invalid={fieldError ? true : undefined}
            aria-describedby={describedBy(ids.hint, !!fieldError && ids.error)}
            className={`${inputClass} sm:w-auto ${fieldBorder(!!fieldError)}`}
          />
          <button type="submit" className={buttonPrimary} disabled={saving}>
            {saving && (
              <ButtonSpinner />
            )}
            Save new time
          </button>
          <button
            type="button"
            className={buttonSecondary}
            disabled={saving}
            onClick={() => close()}
          >
            Keep the current time
          </button>
        </div>
        <p id={ids.hint} className="mt-1.5 text-xs text-sky-900">
          Times are in {timeZone} (your browser&apos;s time zone). At most a year ahead.
        </p>
        <FieldError id={ids.error} message={fieldError ?? undefined} />
      </form>
    );
  }

  return (
    <section
      aria-labelledby="scheduled-heading"
      onFocus={() => {
        holdsFocus.current = true;
      }}
      onBlur={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget)) holdsFocus.current = false;
      }}
      className="rounded-lg border border-sky-200 bg-sky-50 p-4 text-sm text-sky-950 sm:p-5"
    >
      <h2
        id="scheduled-heading"
        ref={headingRef}
        tabIndex={-1}
        className="text-base font-semibold"
      >
        {scheduled ? "Scheduled for " : "No longer scheduled for "}
        {scheduledAt ? (
          <time dateTime={scheduledAt} suppressHydrationWarning>
            {when}
          </time>
        ) : (
          when
        )}
      </h2>
      {scheduled && (
        <p className="mt-1">
          Nothing has been sent yet. It goes out to its {recipients} by itself at that time
          {canSend ? "; you can send it now instead, or pick another time." : "."}
        </p>
      )}
      {error && (
        <p role="alert" className="mt-3 font-medium text-red-800">
          {error}
        </p>
      )}
      <p role="status" className="sr-only">
        {announcement}
      </p>
      {actions}
    </section>
  );
}
