"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";

import { api } from "@/lib/api/client";
import { unwrap } from "@/lib/api/errors";
import type { Campaign } from "@/lib/api/types";
import { phaseOf, queries, recipientsQuery, useApiQuery } from "@/lib/queries";
import {
  MAX_TEST_ADDRESSES,
  addressProblem,
  loadLastAddresses,
  sampleRecipient,
  saveLastAddresses,
  splitAddresses,
  testSendErrors,
  type TestSendErrors,
  type TestSendRequest,
  type TestSendResult,
} from "@/lib/test-send";

import { FieldError, describedBy, fieldBorder, inputClass } from "./new-campaign/fields";
import { buttonPrimary, buttonSecondary, ButtonSpinner } from "./ui";

type Outcome = { accepted: boolean; results: TestSendResult[] };

const STATUS_TEXT: Record<TestSendResult["status"], string> = {
  sent: "Sent",
  failed: "Failed",
  sending: "Sending",
};

const STATUS_STYLE: Record<TestSendResult["status"], string> = {
  sent: "bg-emerald-50 text-emerald-900 ring-emerald-200",
  failed: "bg-red-50 text-red-900 ring-red-200",
  sending: "bg-blue-50 text-blue-900 ring-blue-200",
};

function summary({ accepted, results }: Outcome): string {
  if (accepted) {
    return "A worker took the test and is still sending it: look in the inboxes in a moment.";
  }
  const sent = results.filter((r) => r.status === "sent").length;
  return `Sent to ${sent} of ${results.length} ${results.length === 1 ? "address" : "addresses"}.`;
}

/**
 * "Send test": the campaign's message, sent now to a few of the user's own addresses (its
 * subject marked [Test]; the campaign and its counters do not change), then each address's
 * outcome. A personalised campaign is rendered for its first recipient, or one the user names.
 */
export function TestSendPanel({ campaign, onClose }: { campaign: Campaign; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [text, setText] = useState(loadLastAddresses);
  const [renderFor, setRenderFor] = useState<"first" | "other">("first");
  const [other, setOther] = useState("");
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<TestSendErrors>({});
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const id = useId();
  const toRef = useRef<HTMLTextAreaElement>(null);
  const otherRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    toRef.current?.focus();
  }, []);

  // The recipients the page lists first, offered (with their fields) to render the test for.
  const personalised = campaign.mergeTags;
  const known = useApiQuery({
    ...recipientsQuery(queries(), campaign.id, "all", 1, phaseOf(campaign.status)),
    enabled: personalised && renderFor === "other",
  }).data?.items;

  async function send() {
    if (busy) return;
    const to = splitAddresses(text);
    const problem = addressProblem(to);
    const recipient = renderFor === "other" ? sampleRecipient(other, known ?? []) : undefined;
    if (problem || (renderFor === "other" && recipient === undefined)) {
      setErrors({
        to: problem ?? undefined,
        recipient: problem ? undefined : "Enter the address to render the message for.",
      });
      (problem ? toRef : otherRef).current?.focus();
      return;
    }
    setBusy(true);
    setErrors({});
    setOutcome(null);
    try {
      const { data, status } = await postTest(campaign.id, {
        to,
        ...(recipient === undefined ? {} : { recipient }),
      });
      saveLastAddresses(text);
      setOutcome({ accepted: status === 202, results: data.results });
      // The campaign's activity now says who sent a test.
      void queryClient.invalidateQueries({
        predicate: (query) =>
          query.queryKey[1] === "/api/emails/{id}/activity" &&
          JSON.stringify(query.queryKey).includes(campaign.id),
      });
    } catch (caught) {
      const found = testSendErrors(caught, to);
      setErrors(found);
      if (found.to) toRef.current?.focus();
      else if (found.recipient) otherRef.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  const toHint = `${id}-to-hint`;
  const toError = `${id}-to-error`;
  const otherError = `${id}-other-error`;
  return (
    <form
      aria-label="Send a test"
      noValidate
      className="mt-4 rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-xs sm:p-5"
      onSubmit={(event) => {
        event.preventDefault();
        void send();
      }}
      onKeyDown={(event) => {
        if (event.key === "Escape" && !busy) {
          event.preventDefault();
          onClose();
        }
      }}
    >
      <p className="font-semibold text-slate-900">Send a test of this message</p>
      <p className="mt-1 text-slate-600">
        Its subject starts with [Test], its unsubscribe link unsubscribes nobody, and the
        campaign&apos;s counters do not change.
      </p>

      <label htmlFor={`${id}-to`} className="mt-4 block font-medium text-slate-900">
        Send to
      </label>
      <p id={toHint} className="mt-0.5 text-slate-600">
        Up to {MAX_TEST_ADDRESSES} addresses, separated by commas, spaces or new lines.
      </p>
      <textarea
        ref={toRef}
        id={`${id}-to`}
        rows={2}
        value={text}
        onChange={(event) => setText(event.target.value)}
        autoComplete="email"
        spellCheck={false}
        aria-invalid={errors.to ? true : undefined}
        aria-describedby={describedBy(toHint, errors.to && toError)}
        className={`${inputClass} mt-1.5 font-mono ${fieldBorder(!!errors.to)}`}
      />
      <FieldError id={toError} message={errors.to} />

      {personalised && (
        <fieldset className="mt-4">
          <legend className="font-medium text-slate-900">Render the merge tags for</legend>
          <div className="mt-1.5 space-y-1.5">
            <div className="flex items-center gap-2">
              <input
                type="radio"
                id={`${id}-first`}
                name={`${id}-render-for`}
                checked={renderFor === "first"}
                onChange={() => setRenderFor("first")}
                className="size-4 accent-blue-700"
              />
              <label htmlFor={`${id}-first`}>The campaign&apos;s first recipient</label>
            </div>
            <div className="flex items-center gap-2">
              <input
                type="radio"
                id={`${id}-other`}
                name={`${id}-render-for`}
                checked={renderFor === "other"}
                onChange={() => setRenderFor("other")}
                className="size-4 accent-blue-700"
              />
              <label htmlFor={`${id}-other`}>Another recipient</label>
            </div>
          </div>
          {renderFor === "other" && (
            <div className="mt-2 sm:max-w-sm">
              <label htmlFor={`${id}-other-email`} className="block font-medium text-slate-900">
                Recipient&apos;s address
              </label>
              <input
                ref={otherRef}
                id={`${id}-other-email`}
                type="email"
                list={`${id}-known`}
                value={other}
                onChange={(event) => setOther(event.target.value)}
                spellCheck={false}
                aria-invalid={errors.recipient ? true : undefined}
                aria-describedby={describedBy(errors.recipient && otherError)}
                className={`${inputClass} mt-1.5 ${fieldBorder(!!errors.recipient)}`}
              />
              <datalist id={`${id}-known`}>
                {(known ?? []).map((row) => (
                  <option key={row.id} value={row.email}>
                    {row.name ?? undefined}
                  </option>
                ))}
              </datalist>
            </div>
          )}
        </fieldset>
      )}
      <FieldError id={otherError} message={errors.recipient} />

      {errors.form && (
        <p role="alert" className="mt-3 font-medium text-red-800">
          {errors.form}
        </p>
      )}
      <div className="mt-4 flex flex-wrap items-center gap-3">
        <button type="submit" className={buttonPrimary} disabled={busy}>
          {busy && (
            <ButtonSpinner />
          )}
          Send the test
        </button>
        <button type="button" className={buttonSecondary} disabled={busy} onClick={onClose}>
          Close
        </button>
      </div>

      <div role="status" aria-live="polite">
        {busy && <p className="mt-4 text-slate-600">Sending the test…</p>}
        {outcome && (
          <>
            <p className="mt-4 font-medium text-slate-900">{summary(outcome)}</p>
            <ul aria-label="Test results" className="mt-2 space-y-1.5">
              {outcome.results.map((result) => (
                <li key={result.to} className="flex flex-wrap items-baseline gap-x-2 gap-y-0.5">
                  <span
                    className={`inline-flex shrink-0 items-center rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${STATUS_STYLE[result.status]}`}
                  >
                    {STATUS_TEXT[result.status]}
                  </span>
                  <span className="font-mono break-all text-slate-900">{result.to}</span>
                  {result.error && (
                    <span className="basis-full break-words text-red-800">{result.error}</span>
                  )}
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
    </form>
  );
}

/** The test send, with whether it was answered 200 (sent) or 202 (still sending). */
async function postTest(id: string, body: TestSendRequest) {
  let status = 0;
  const data = await unwrap(
    api()
      .POST("/api/emails/{id}/test", { params: { path: { id } }, body })
      .then((result) => {
        status = result.response.status;
        return result;
      }),
  );
  return { data, status };
}
