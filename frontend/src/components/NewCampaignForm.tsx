"use client";

import { useDeferredValue, useMemo, useRef, useState, type FormEvent } from "react";

import type { CampaignField } from "@/lib/api/submit-errors";
import { plural } from "@/lib/format";
import { analyseRecipients, parsePastedRecipients } from "@/lib/recipients";

import { BodyField } from "./new-campaign/BodyField";
import type { CsvState } from "./new-campaign/CsvUpload";
import { RecipientsField } from "./new-campaign/RecipientsField";
import { SubjectField } from "./new-campaign/SubjectField";
import { useSubmitCampaign } from "./new-campaign/use-submit-campaign";
import { buttonPrimary } from "./ui";

const FIELD_ORDER: readonly CampaignField[] = ["subject", "body", "recipients"];

/** The "new campaign" form: subject, HTML body with a sandboxed preview, recipients. */
export function NewCampaignForm() {
  const [subject, setSubject] = useState("");
  const [body, setBody] = useState("");
  const [pasted, setPasted] = useState("");
  const [csv, setCsv] = useState<CsvState | null>(null);
  const subjectRef = useRef<HTMLInputElement>(null);
  const bodyRef = useRef<HTMLTextAreaElement>(null);
  const recipientsRef = useRef<HTMLTextAreaElement>(null);

  function focusFirst(fields: Partial<Record<CampaignField, string>>) {
    const refs = { subject: subjectRef, body: bodyRef, recipients: recipientsRef };
    const first = FIELD_ORDER.find((f) => fields[f]);
    if (first) refs[first].current?.focus();
  }

  const { errors, submitting, submitted, clearFieldError, submit } =
    useSubmitCampaign(focusFirst);

  const deferredPasted = useDeferredValue(pasted);
  const analysis = useMemo(() => {
    const candidates = parsePastedRecipients(deferredPasted);
    if (csv?.result.ok) candidates.push(...csv.result.candidates);
    return analyseRecipients(candidates);
  }, [deferredPasted, csv]);
  const hasRecipientInput =
    deferredPasted.trim() !== "" || (csv?.result.ok === true && csv.result.candidates.length > 0);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void submit({ subject, body, pasted, csv });
  }

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

      <SubjectField
        value={subject}
        onChange={(value) => {
          setSubject(value);
          clearFieldError("subject");
        }}
        error={errors.fields.subject}
        inputRef={subjectRef}
      />

      <BodyField
        value={body}
        onChange={(value) => {
          setBody(value);
          clearFieldError("body");
        }}
        error={errors.fields.body}
        textareaRef={bodyRef}
      />

      <RecipientsField
        pasted={pasted}
        onPastedChange={(value) => {
          setPasted(value);
          clearFieldError("recipients");
        }}
        csv={csv}
        onCsvChange={(next) => {
          setCsv(next);
          clearFieldError("recipients");
        }}
        error={errors.fields.recipients}
        issues={errors.recipients}
        invalidCount={errors.invalidRecipientCount}
        submitted={submitted}
        analysis={analysis}
        hasInput={hasRecipientInput}
        textareaRef={recipientsRef}
      />

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
