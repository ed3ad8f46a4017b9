import { useDeferredValue, useEffect, useId, useState } from "react";

import { api } from "@/lib/api/client";
import { ApiError, isAbortError, unwrap } from "@/lib/api/errors";
import { mapSubmitError } from "@/lib/api/submit-errors";
import type { PreviewRequest, PreviewResponse } from "@/lib/api/types";
import { toRecipientEntry } from "@/lib/campaign-form";
import type { ValidRecipient } from "@/lib/recipients";

import { HtmlPreview } from "../HtmlPreview";

/** How many recipients the picker offers (the first ones of the list). */
export const PREVIEW_CHOICES = 100;
/** How long typing must pause before the preview is asked for. */
export const PREVIEW_DEBOUNCE_MS = 300;

/** The answer to one request (`request`: its body as sent). */
type Answer = { request: string } & (
  | { kind: "ok"; message: PreviewResponse }
  | { kind: "error"; messages: string[] }
);

const FIELD_LABELS: Record<string, string> = {
  subject: "Subject",
  body: "Body",
  recipients: "Recipient",
  scheduledAt: "Send time",
};

/** What a refused preview says, one line per problem. */
function previewErrors(error: unknown): string[] {
  const apiError =
    error instanceof ApiError ? error : new ApiError(0, "network_error", "The server cannot be reached.");
  if (apiError.status !== 422) {
    return [
      apiError.unreachable || apiError.status === 0
        ? "The preview could not be made: the Paloma API cannot be reached."
        : `The preview could not be made: ${apiError.message}`,
    ];
  }
  const mapped = mapSubmitError(apiError);
  const lines = mapped.recipients.map((issue) => `${issue.value}: ${issue.reason}.`);
  for (const [field, message] of Object.entries(mapped.fields)) {
    // "1 recipient has no value ..." adds nothing to the recipient's own line.
    if (field === "recipients" && lines.length > 0) continue;
    lines.push(`${FIELD_LABELS[field] ?? field}: ${message}`);
  }
  if (mapped.form) lines.push(mapped.form);
  return lines.length > 0 ? lines : [apiError.message];
}

function recipientLabel(r: ValidRecipient): string {
  return r.name ? `${r.name} <${r.email}>` : r.email;
}

interface Props {
  subject: string;
  body: string;
  /** The valid recipients, in order: the first ones are offered. */
  recipients: readonly ValidRecipient[];
}

/**
 * The message as one recipient gets it: picked among the first recipients (the first by
 * default), rendered by the API (`POST /api/emails/preview`) once typing pauses, with its
 * subject, its HTML in a sandboxed iframe and its text part. A refusal (a merge tag with no value
 * for this recipient, a syntax error) shows here. Until there is a subject, a body and a
 * recipient, the body is shown as written.
 */
export function MessagePreview({ subject, body, recipients }: Props) {
  const id = useId();
  const [chosen, setChosen] = useState("");
  const [answer, setAnswer] = useState<Answer | null>(null);
  const choices = recipients.slice(0, PREVIEW_CHOICES);
  const recipient = choices.find((r) => r.email.toLowerCase() === chosen) ?? choices[0];
  const ready = subject.trim() !== "" && body.trim() !== "" && recipient !== undefined;
  // The request's content as one string, so that the effect runs only when it changes.
  const request = ready
    ? JSON.stringify({ subject, body, recipient: toRecipientEntry(recipient) })
    : null;
  const localHtml = useDeferredValue(body);
  // The last answer stays shown (dimmed) while the next one is on its way.
  const state = request === null || answer === null ? null : answer;
  const pending = request !== null && answer?.request !== request;

  useEffect(() => {
    if (request === null) return;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      unwrap(
        api().POST("/api/emails/preview", {
          body: JSON.parse(request) as PreviewRequest,
          signal: controller.signal,
        }),
      )
        .then((message) => {
          if (controller.signal.aborted) return;
          setAnswer({ request, kind: "ok", message });
        })
        .catch((error: unknown) => {
          // A newer request replaced this one: its answer is not wanted.
          if (controller.signal.aborted || isAbortError(error)) return;
          setAnswer({ request, kind: "error", messages: previewErrors(error) });
        });
    }, PREVIEW_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [request]);

  const ids = { select: `${id}-for`, hint: `${id}-for-hint`, text: `${id}-text` };
  let content: React.ReactNode;
  if (state === null) {
    content =
      localHtml.trim() === "" ? (
        <div className="mt-1.5 flex min-h-64 flex-1 items-center justify-center rounded-md border border-dashed border-slate-300 bg-slate-50 p-6 text-center text-sm text-slate-600">
          The preview of the HTML body appears here.
        </div>
      ) : (
        <>
          <p className="mt-1.5 text-xs text-slate-600">
            {ready
              ? "Filling in the merge tags…"
              : "As written: add a subject and a recipient to see the message as a recipient gets it."}
          </p>
          <HtmlPreview html={localHtml} title="Email preview" className="mt-1.5 min-h-64 flex-1 lg:h-auto" />
        </>
      );
  } else if (state.kind === "error") {
    content = (
      <div className="mt-1.5 min-h-64 flex-1 rounded-md border border-red-200 bg-red-50 p-4 text-sm text-red-900">
        <p className="font-semibold">This message cannot be sent to this recipient:</p>
        <ul className="mt-1 list-disc space-y-1 pl-5 break-words">
          {state.messages.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ul>
      </div>
    );
  } else {
    content = (
      <>
        <p className="mt-1.5 rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm break-words text-slate-900">
          <span className="font-semibold">Subject: </span>
          <span data-testid="preview-subject">{state.message.subject}</span>
        </p>
        <HtmlPreview
          html={state.message.html}
          title="Email preview"
          className="mt-1.5 min-h-64 flex-1 lg:h-auto"
        />
        <details className="mt-1.5 text-sm">
          <summary className="cursor-pointer rounded-sm font-medium text-slate-800">
            Text part
          </summary>
          <pre
            id={ids.text}
            className="mt-1 max-h-64 overflow-auto rounded-md border border-slate-200 bg-white p-3 font-mono text-xs whitespace-pre-wrap text-slate-800"
          >
            {state.message.text}
          </pre>
        </details>
      </>
    );
  }

  return (
    <>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-sm font-semibold text-slate-900">Preview</p>
        {choices.length > 0 && (
          <div className="flex min-w-0 items-center gap-2 text-sm">
            <label htmlFor={ids.select} className="text-slate-700">
              For
            </label>
            <select
              id={ids.select}
              value={recipient?.email.toLowerCase() ?? ""}
              onChange={(e) => setChosen(e.target.value)}
              aria-describedby={recipients.length > PREVIEW_CHOICES ? ids.hint : undefined}
              className="min-h-9 max-w-64 min-w-0 truncate rounded-md border border-slate-300 bg-white px-2 text-sm text-slate-900 focus-visible:outline-2 focus-visible:outline-blue-600"
            >
              {choices.map((r) => (
                <option key={r.email.toLowerCase()} value={r.email.toLowerCase()}>
                  {recipientLabel(r)}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      {recipients.length > PREVIEW_CHOICES && (
        <p id={ids.hint} className="mt-0.5 text-xs text-slate-600">
          The first {PREVIEW_CHOICES} recipients are offered.
        </p>
      )}
      <div
        aria-live="polite"
        aria-busy={pending}
        className={`flex min-w-0 flex-1 flex-col transition-opacity ${pending && state !== null ? "opacity-60" : ""}`}
      >
        {content}
      </div>
    </>
  );
}
