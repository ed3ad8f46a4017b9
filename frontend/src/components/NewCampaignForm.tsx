"use client";

import { useRouter } from "next/navigation";
import { useDeferredValue, useId, useMemo, useRef, useState, type FormEvent } from "react";

import { api } from "@/lib/api/client";
import { ApiError, unwrap } from "@/lib/api/errors";
import { mapSubmitError, type CampaignField, type SubmitErrors } from "@/lib/api/submit-errors";
import {
  MAX_SUBJECT_CHARS,
  newIdempotencyKey,
  toCreateRequest,
  validateCampaignForm,
} from "@/lib/campaign-form";
import { formatCount, plural } from "@/lib/format";
import {
  analyseRecipients,
  describeOrigin,
  parseCsvRecipients,
  parsePastedRecipients,
  type CsvResult,
  type RecipientAnalysis,
  type ValidRecipient,
} from "@/lib/recipients";

import { HtmlPreview } from "./HtmlPreview";
import { buttonPrimary, buttonSecondary } from "./ui";

const EMPTY_ERRORS: SubmitErrors = { fields: {}, recipients: [], invalidRecipientCount: 0 };
/** Long lists are cut in the summary. */
const LISTED = 50;

const inputClass =
  "block w-full rounded-md border bg-white px-3 py-2 text-sm text-slate-900 shadow-xs placeholder:text-slate-500 focus-visible:outline-2 focus-visible:outline-offset-0 focus-visible:outline-blue-600";

function fieldBorder(invalid: boolean): string {
  return invalid ? "border-red-600" : "border-slate-300";
}

function FieldError({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p id={id} className="mt-1.5 text-sm font-medium text-red-700">
      {message}
    </p>
  );
}

interface CsvState {
  fileName: string;
  result: CsvResult;
}

function RecipientSummary({
  analysis,
  hasInput,
}: {
  analysis: RecipientAnalysis;
  hasInput: boolean;
}) {
  const { valid, invalid, duplicates } = analysis;
  if (!hasInput) {
    return <p className="text-sm text-slate-600">No recipients yet.</p>;
  }
  return (
    <div className="space-y-3 text-sm">
      <ul className="flex flex-wrap gap-2" aria-label="Recipient check">
        <li className="rounded-md bg-emerald-50 px-2.5 py-1 font-medium text-emerald-900 ring-1 ring-emerald-200 ring-inset">
          <span className="tabular-nums">{formatCount(valid.length)}</span> valid
        </li>
        <li
          className={`rounded-md px-2.5 py-1 font-medium ring-1 ring-inset ${invalid.length > 0 ? "bg-red-50 text-red-900 ring-red-200" : "bg-slate-50 text-slate-700 ring-slate-200"}`}
        >
          <span className="tabular-nums">{formatCount(invalid.length)}</span> invalid
        </li>
        <li
          className={`rounded-md px-2.5 py-1 font-medium ring-1 ring-inset ${duplicates.length > 0 ? "bg-amber-50 text-amber-900 ring-amber-200" : "bg-slate-50 text-slate-700 ring-slate-200"}`}
        >
          <span className="tabular-nums">{formatCount(duplicates.length)}</span>{" "}
          {duplicates.length === 1 ? "duplicate" : "duplicates"}
        </li>
      </ul>
      {invalid.length > 0 && (
        <div>
          <p className="font-medium text-red-800">
            {plural(invalid.length, "invalid entry", "invalid entries")} will not be sent:
          </p>
          <ul className="mt-1 max-h-48 space-y-0.5 overflow-y-auto rounded-md border border-red-100 bg-red-50/50 p-2 text-slate-800">
            {invalid.slice(0, LISTED).map((item, i) => (
              <li key={`${item.source}-${item.line}-${i}`}>
                <span className="font-medium capitalize">{describeOrigin(item)}</span>:{" "}
                <span className="font-mono break-all">{item.value || "(empty)"}</span>{" "}
                <span className="text-slate-600">— {item.reason}</span>
              </li>
            ))}
            {invalid.length > LISTED && (
              <li className="text-slate-600">and {formatCount(invalid.length - LISTED)} more</li>
            )}
          </ul>
        </div>
      )}
      {duplicates.length > 0 && (
        <details className="group">
          <summary className="cursor-pointer rounded-sm font-medium text-amber-900">
            {plural(duplicates.length, "duplicate address", "duplicate addresses")} (ignoring case)
            will be sent once
          </summary>
          <ul className="mt-1 max-h-48 space-y-0.5 overflow-y-auto rounded-md border border-amber-100 bg-amber-50/50 p-2 text-slate-800">
            {duplicates.slice(0, LISTED).map((item, i) => (
              <li key={`${item.source}-${item.line}-${i}`}>
                <span className="font-medium capitalize">{describeOrigin(item)}</span>:{" "}
                <span className="font-mono break-all">{item.email}</span>{" "}
                <span className="text-slate-600">(same as {describeOrigin(item.first)})</span>
              </li>
            ))}
            {duplicates.length > LISTED && (
              <li className="text-slate-600">and {formatCount(duplicates.length - LISTED)} more</li>
            )}
          </ul>
        </details>
      )}
    </div>
  );
}

/** The "new campaign" form: subject, HTML body with a sandboxed preview, recipients. */
export function NewCampaignForm() {
  const router = useRouter();
  const id = useId();
  const ids = {
    subject: `${id}-subject`,
    subjectHint: `${id}-subject-hint`,
    subjectError: `${id}-subject-error`,
    body: `${id}-body`,
    bodyError: `${id}-body-error`,
    recipients: `${id}-recipients`,
    recipientsHint: `${id}-recipients-hint`,
    recipientsError: `${id}-recipients-error`,
    csv: `${id}-csv`,
    csvError: `${id}-csv-error`,
    summary: `${id}-summary`,
  };

  const [subject, setSubject] = useState("");
  const [body, setBody] = useState("");
  const [pasted, setPasted] = useState("");
  const [csv, setCsv] = useState<CsvState | null>(null);
  const [errors, setErrors] = useState<SubmitErrors>(EMPTY_ERRORS);
  const [submitting, setSubmitting] = useState(false);
  // What was last sent, to map the server's recipient indexes back to lines and rows.
  const [submitted, setSubmitted] = useState<ValidRecipient[]>([]);
  const fileInput = useRef<HTMLInputElement>(null);
  // One Idempotency-Key per content: sending the same campaign again (a double click, a retry
  // after a lost answer) cannot create it twice; changed content gets a new key.
  const attempt = useRef<{ fingerprint: string; key: string } | null>(null);
  const refs = {
    subject: useRef<HTMLInputElement>(null),
    body: useRef<HTMLTextAreaElement>(null),
    recipients: useRef<HTMLTextAreaElement>(null),
  };

  const previewHtml = useDeferredValue(body);
  const deferredPasted = useDeferredValue(pasted);
  const analysis = useMemo(() => {
    const candidates = parsePastedRecipients(deferredPasted);
    if (csv?.result.ok) candidates.push(...csv.result.candidates);
    return analyseRecipients(candidates);
  }, [deferredPasted, csv]);
  const hasRecipientInput =
    deferredPasted.trim() !== "" || (csv?.result.ok === true && csv.result.candidates.length > 0);

  function clearFieldError(field: CampaignField) {
    setErrors((prev) => {
      if (!prev.fields[field] && (field !== "recipients" || prev.recipients.length === 0)) {
        return prev;
      }
      const fields = { ...prev.fields };
      delete fields[field];
      return field === "recipients"
        ? { ...prev, fields, recipients: [], invalidRecipientCount: 0 }
        : { ...prev, fields };
    });
  }

  async function onCsvChange(file: File | undefined) {
    clearFieldError("recipients");
    if (!file) {
      setCsv(null);
      return;
    }
    const text = await file.text();
    setCsv({ fileName: file.name, result: parseCsvRecipients(text) });
  }

  function removeCsv() {
    setCsv(null);
    if (fileInput.current) fileInput.current.value = "";
    clearFieldError("recipients");
  }

  function focusFirst(fields: Partial<Record<CampaignField, string>>) {
    const order: CampaignField[] = ["subject", "body", "recipients"];
    const first = order.find((f) => fields[f]);
    if (first) refs[first].current?.focus();
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting) return;
    // Analyse what is in the fields now, not the deferred values.
    const candidates = parsePastedRecipients(pasted);
    if (csv?.result.ok) candidates.push(...csv.result.candidates);
    const recipients = analyseRecipients(candidates).valid;
    const values = { subject, body, recipients };
    const local = validateCampaignForm(values);
    if (csv && !csv.result.ok && !local.recipients) {
      local.recipients = "The CSV file could not be used: remove it or upload another one.";
    }
    if (Object.keys(local).length > 0) {
      setErrors({ ...EMPTY_ERRORS, fields: local });
      focusFirst(local);
      return;
    }

    setSubmitting(true);
    setErrors(EMPTY_ERRORS);
    setSubmitted(recipients);
    const request = toCreateRequest(values);
    const fingerprint = JSON.stringify(request);
    if (attempt.current?.fingerprint !== fingerprint) {
      attempt.current = { fingerprint, key: newIdempotencyKey() };
    }
    try {
      const created = await unwrap(
        api().POST("/api/emails", {
          body: request,
          params: { header: { "Idempotency-Key": attempt.current.key } },
        }),
      );
      router.push(`/campaigns/${created.id}`);
    } catch (error) {
      const apiError =
        error instanceof ApiError
          ? error
          : new ApiError(0, "network_error", "The server cannot be reached.");
      if (apiError.status === 409) attempt.current = null;
      const mapped = mapSubmitError(apiError);
      setErrors(mapped);
      focusFirst(mapped.fields);
      setSubmitting(false);
    }
  }

  const subjectChars = [...subject.trim()].length;
  const describedBy = (...parts: (string | false | undefined)[]) =>
    parts.filter(Boolean).join(" ") || undefined;

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-6" aria-busy={submitting}>
      {errors.form && (
        <div
          role="alert"
          className="rounded-lg border border-red-200 bg-red-50 p-4 text-sm font-medium text-red-900"
        >
          {errors.form}
        </div>
      )}

      <section className="rounded-lg border border-slate-200 bg-white p-4 shadow-xs sm:p-5">
        <label htmlFor={ids.subject} className="block text-sm font-semibold text-slate-900">
          Subject
        </label>
        <input
          ref={refs.subject}
          id={ids.subject}
          name="subject"
          type="text"
          autoComplete="off"
          value={subject}
          onChange={(e) => {
            setSubject(e.target.value);
            clearFieldError("subject");
          }}
          aria-invalid={errors.fields.subject ? true : undefined}
          aria-describedby={describedBy(ids.subjectHint, errors.fields.subject && ids.subjectError)}
          className={`${inputClass} mt-1.5 ${fieldBorder(!!errors.fields.subject)}`}
          placeholder="Our November newsletter"
        />
        <p
          id={ids.subjectHint}
          className={`mt-1.5 text-xs tabular-nums ${subjectChars > MAX_SUBJECT_CHARS ? "text-red-700" : "text-slate-600"}`}
        >
          One line, {subjectChars} of {MAX_SUBJECT_CHARS} characters.
        </p>
        <FieldError id={ids.subjectError} message={errors.fields.subject} />
      </section>

      <section className="rounded-lg border border-slate-200 bg-white p-4 shadow-xs sm:p-5">
        <div className="grid gap-4 lg:grid-cols-2">
          <div className="flex min-w-0 flex-col">
            <label htmlFor={ids.body} className="block text-sm font-semibold text-slate-900">
              HTML body
            </label>
            <textarea
              ref={refs.body}
              id={ids.body}
              name="body"
              value={body}
              onChange={(e) => {
                setBody(e.target.value);
                clearFieldError("body");
              }}
              spellCheck={false}
              rows={16}
              aria-invalid={errors.fields.body ? true : undefined}
              aria-describedby={describedBy(errors.fields.body && ids.bodyError)}
              className={`${inputClass} mt-1.5 min-h-64 flex-1 font-mono text-xs leading-relaxed ${fieldBorder(!!errors.fields.body)}`}
              placeholder={"<h1>Hello!</h1>\n<p>News of the month.</p>"}
            />
            <FieldError id={ids.bodyError} message={errors.fields.body} />
          </div>
          <div className="flex min-w-0 flex-col">
            <p className="text-sm font-semibold text-slate-900" id={`${id}-preview-label`}>
              Preview
            </p>
            {previewHtml.trim() === "" ? (
              <div className="mt-1.5 flex min-h-64 flex-1 items-center justify-center rounded-md border border-dashed border-slate-300 bg-slate-50 p-6 text-center text-sm text-slate-600">
                The preview of the HTML body appears here.
              </div>
            ) : (
              <HtmlPreview
                html={previewHtml}
                title="Email preview"
                className="mt-1.5 min-h-64 flex-1 lg:h-auto"
              />
            )}
            <p className="mt-1.5 text-xs text-slate-600">
              Rendered in a sandbox: scripts and forms do not run here.
            </p>
          </div>
        </div>
      </section>

      <section className="rounded-lg border border-slate-200 bg-white p-4 shadow-xs sm:p-5">
        <label htmlFor={ids.recipients} className="block text-sm font-semibold text-slate-900">
          Recipients
        </label>
        <p id={ids.recipientsHint} className="mt-0.5 text-xs text-slate-600">
          One address per line, or separated by commas or semicolons. <code>Name &lt;email&gt;</code>{" "}
          works too.
        </p>
        <textarea
          ref={refs.recipients}
          id={ids.recipients}
          name="recipients"
          value={pasted}
          onChange={(e) => {
            setPasted(e.target.value);
            clearFieldError("recipients");
          }}
          rows={8}
          spellCheck={false}
          autoComplete="off"
          aria-invalid={errors.fields.recipients ? true : undefined}
          aria-describedby={describedBy(
            ids.recipientsHint,
            errors.fields.recipients && ids.recipientsError,
            ids.summary,
          )}
          className={`${inputClass} mt-1.5 font-mono text-xs leading-relaxed ${fieldBorder(!!errors.fields.recipients)}`}
          placeholder={"ann@example.org\nBob Smith <bob@example.org>; carol@example.org"}
        />

        <div className="mt-3 flex flex-wrap items-center gap-3">
          <label htmlFor={ids.csv} className="text-sm font-semibold text-slate-900">
            Upload CSV
          </label>
          <input
            ref={fileInput}
            id={ids.csv}
            name="csv"
            type="file"
            accept=".csv,text/csv"
            onChange={(e) => void onCsvChange(e.target.files?.[0])}
            aria-describedby={describedBy(`${id}-csv-hint`, csv?.result.ok === false && ids.csvError)}
            className="block max-w-full text-sm text-slate-700 file:mr-3 file:min-h-10 file:cursor-pointer file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:text-sm file:font-semibold file:text-slate-800 hover:file:bg-slate-50"
          />
          {csv && (
            <button type="button" onClick={removeCsv} className={buttonSecondary}>
              Remove file
            </button>
          )}
        </div>
        <p id={`${id}-csv-hint`} className="mt-1 text-xs text-slate-600">
          A header row with an <code>email</code> column and an optional <code>name</code> column.
          Its recipients are added to the ones above.
        </p>
        {csv?.result.ok === true && (
          <p className="mt-1 text-sm text-slate-700">
            <span className="font-medium">{csv.fileName}</span>:{" "}
            {plural(csv.result.candidates.length, "row", "rows")} read.
          </p>
        )}
        {csv?.result.ok === false && (
          <p id={ids.csvError} className="mt-1.5 text-sm font-medium text-red-700" role="alert">
            {csv.fileName}: {csv.result.error}
          </p>
        )}

        <FieldError id={ids.recipientsError} message={errors.fields.recipients} />
        {errors.recipients.length > 0 && (
          <ul className="mt-1 space-y-0.5 text-sm text-red-800">
            {errors.recipients.map((issue) => {
              const origin = submitted[issue.index];
              return (
                <li key={issue.index}>
                  <span className="font-medium capitalize">
                    {origin ? describeOrigin(origin) : `Recipient ${issue.index + 1}`}
                  </span>
                  : <span className="font-mono break-all">{issue.value}</span> — {issue.reason}
                </li>
              );
            })}
            {errors.invalidRecipientCount > errors.recipients.length && (
              <li>and {formatCount(errors.invalidRecipientCount - errors.recipients.length)} more</li>
            )}
          </ul>
        )}

        <div
          id={ids.summary}
          aria-live="polite"
          className="mt-4 border-t border-slate-200 pt-4"
        >
          <h2 className="sr-only">Recipient check</h2>
          <RecipientSummary analysis={analysis} hasInput={hasRecipientInput} />
        </div>
      </section>

      <div className="flex flex-col-reverse gap-3 sm:flex-row sm:items-center sm:justify-end">
        <p className="text-sm text-slate-600 sm:mr-auto">
          {analysis.valid.length > 0
            ? `Ready to send to ${plural(analysis.valid.length, "recipient", "recipients")}.`
            : "Add recipients to send."}
        </p>
        <button type="submit" className={buttonPrimary} disabled={submitting}>
          {submitting && (
            <span
              aria-hidden="true"
              className="size-4 animate-spin rounded-full border-2 border-white/40 border-t-white"
            />
          )}
          Send campaign
        </button>
      </div>
    </form>
  );
}
