"use client";

import { useDeferredValue, useId, useMemo, useRef, useState, type FormEvent } from "react";

import type { CampaignField } from "@/lib/api/submit-errors";
import type { Campaign } from "@/lib/api/types";
import { formatCount, plural } from "@/lib/format";
import { NO_SENDER, type SenderValues } from "@/lib/campaign-form";
import { analyseFormRecipients } from "@/lib/recipients";
import { browserTimeZone, pickerBounds } from "@/lib/schedule";

import { BodyField } from "./new-campaign/BodyField";
import { csvRecipients, type CsvState } from "./new-campaign/CsvUpload";
import { MergeTagHint } from "./new-campaign/MergeTagHint";
import { MessagePreview } from "./new-campaign/MessagePreview";
import { RecipientsField } from "./new-campaign/RecipientsField";
import { ScheduleField } from "./new-campaign/ScheduleField";
import { SenderField } from "./new-campaign/SenderField";
import { SubjectField } from "./new-campaign/SubjectField";
import { useEditCampaign, type EditStart } from "./new-campaign/use-edit-campaign";
import { useSubmitCampaign } from "./new-campaign/use-submit-campaign";
import { ButtonSpinner, buttonPrimary, buttonSecondary } from "./ui";

const FIELD_ORDER: readonly CampaignField[] = [
  "subject",
  "from.name",
  "from.email",
  "replyTo",
  "body",
  "recipients",
  "scheduledAt",
];
const SENDER_FIELDS: readonly CampaignField[] = ["from.name", "from.email", "replyTo"];

/** The form as an editor of a draft or scheduled campaign. */
export interface EditSetup {
  campaignId: string;
  /** A scheduled campaign keeps a send time: the picker has no "no time" choice then. */
  scheduled: boolean;
  /** How many recipients it has (said when the list is too long to load). */
  totalEmails: number;
  start: EditStart;
  /** Saved (`null`: nothing had changed, nothing was sent). */
  onSaved: (campaign: Campaign | null) => void;
  onCancel: () => void;
}

/**
 * The "new campaign" form: subject, HTML body with a sandboxed preview, recipients, and when to
 * send (now, or at a date and time in the browser's time zone). It sends (or schedules) the
 * campaign, or saves it as a draft to send later; `canSend` false (the key lacks
 * `campaigns:send`) leaves only the draft, which someone whose key may send can send. With
 * `edit`, it starts from a draft or scheduled campaign and saves what changed in it.
 */
export function NewCampaignForm({ canSend = true, edit }: { canSend?: boolean; edit?: EditSetup }) {
  const [subject, setSubject] = useState(edit?.start.subject ?? "");
  const [body, setBody] = useState(edit?.start.body ?? "");
  const [pasted, setPasted] = useState(edit?.start.pasted ?? "");
  const [csv, setCsv] = useState<CsvState | null>(null);
  const subjectRef = useRef<HTMLInputElement>(null);
  const bodyRef = useRef<HTMLTextAreaElement>(null);
  const recipientsRef = useRef<HTMLTextAreaElement>(null);
  const sendAtRef = useRef<HTMLInputElement>(null);
  // The sender (new campaigns only: editing keeps the one the campaign was stored with).
  const [sender, setSender] = useState<SenderValues>(NO_SENDER);
  const [senderOpen, setSenderOpen] = useState(false);
  const senderRef = useRef<HTMLDetailsElement>(null);
  const fromNameRef = useRef<HTMLInputElement>(null);
  const fromEmailRef = useRef<HTMLInputElement>(null);
  const replyToRef = useRef<HTMLInputElement>(null);
  // When to send: now (the default), or at `sendAt`, read in the browser's time zone.
  const [later, setLater] = useState(edit ? edit.start.scheduledAt !== null : false);
  const [sendAt, setSendAt] = useState(edit?.start.sendAt ?? "");
  const [schedule, setSchedule] = useState<{
    timeZone: string;
    bounds: { min: string; max: string };
  } | null>(() => {
    if (!edit || edit.start.scheduledAt === null) return null;
    const timeZone = browserTimeZone();
    return { timeZone, bounds: pickerBounds(timeZone, Date.now()) };
  });

  function focusFirst(fields: Partial<Record<CampaignField, string>>) {
    const refs = {
      subject: subjectRef,
      body: bodyRef,
      recipients: recipientsRef,
      scheduledAt: sendAtRef,
      "from.name": fromNameRef,
      "from.email": fromEmailRef,
      replyTo: replyToRef,
    };
    const first = FIELD_ORDER.find((f) => fields[f]);
    if (first && SENDER_FIELDS.includes(first)) {
      // A field in a closed <details> cannot take focus: open it first (the state follows).
      if (senderRef.current) senderRef.current.open = true;
      setSenderOpen(true);
    }
    if (first) refs[first].current?.focus();
  }

  const creating = useSubmitCampaign(focusFirst);
  const editing = useEditCampaign(
    edit?.campaignId ?? "",
    focusFirst,
    (saved) => edit?.onSaved(saved),
  );
  const { errors, submitted, clearFieldError } = edit ? editing : creating;
  const submitting = edit ? editing.saving : creating.submitting;
  const submit = creating.submit;
  // Which button sent the form, for its spinner.
  const [savingDraft, setSavingDraft] = useState(false);

  const deferredPasted = useDeferredValue(pasted);
  const analysis = useMemo(() => {
    return analyseFormRecipients(deferredPasted, csvRecipients(csv));
  }, [deferredPasted, csv]);
  const csvFields = useMemo(
    () => (csv?.result.ok ? csv.result.mapping.fields.map((f) => f.field) : []),
    [csv],
  );
  const tagsHintId = `${useId()}-tags`;
  // The preview follows the typing once it pauses (MessagePreview waits for that itself).
  const previewSubject = useDeferredValue(subject);
  const previewBody = useDeferredValue(body);
  const hasRecipientInput =
    deferredPasted.trim() !== "" || (csv?.result.ok === true && csv.result.candidates.length > 0);

  function send(draft: boolean) {
    setSavingDraft(draft);
    void submit({
      subject,
      body,
      pasted,
      csv,
      draft,
      sendAt: later ? sendAt : null,
      timeZone: schedule?.timeZone ?? browserTimeZone(),
      sender,
    });
  }

  function chooseLater(next: boolean) {
    setLater(next);
    clearFieldError("scheduledAt");
    if (next) {
      const timeZone = browserTimeZone();
      setSchedule({ timeZone, bounds: pickerBounds(timeZone, Date.now()) });
    }
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (edit) {
      void editing.save(edit.start, {
        subject,
        body,
        pasted,
        csv,
        sendAt: later ? sendAt : null,
        timeZone: schedule?.timeZone ?? browserTimeZone(),
      });
      return;
    }
    // Enter in a field does what the main button does.
    send(!canSend);
  }

  const keepsList = edit !== undefined && !edit.start.prefilled;

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
        tagsHintId={tagsHintId}
      />

      {!edit && (
        <SenderField
          values={sender}
          onChange={(part, value) => {
            setSender((prev) => ({ ...prev, [part]: value }));
            // The address's "goes with this name" error is cleared by either field.
            if (part === "fromName") clearFieldError("from.name");
            if (part === "fromName" || part === "fromEmail") clearFieldError("from.email");
            if (part === "replyTo") clearFieldError("replyTo");
          }}
          errors={errors.fields}
          open={senderOpen}
          onOpenChange={setSenderOpen}
          detailsRef={senderRef}
          fromNameRef={fromNameRef}
          fromEmailRef={fromEmailRef}
          replyToRef={replyToRef}
        />
      )}

      <BodyField
        value={body}
        onChange={(value) => {
          setBody(value);
          clearFieldError("body");
        }}
        error={errors.fields.body}
        textareaRef={bodyRef}
        tagsHintId={tagsHintId}
        tagsHint={<MergeTagHint id={tagsHintId} fields={csvFields} />}
        preview={
          <MessagePreview
            subject={previewSubject}
            body={previewBody}
            recipients={analysis.valid}
          />
        }
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
        csvMapping={csv?.result.ok ? csv.result.mapping : null}
        hasInput={hasRecipientInput}
        textareaRef={recipientsRef}
      />

      {keepsList && (
        <p className="-mt-4 text-sm text-slate-600">
          This campaign has {formatCount(edit?.totalEmails ?? 0)} recipients, more than the editor loads.
          Leave the field empty to keep them, or enter the whole new list.
        </p>
      )}

      <ScheduleField
        later={later}
        onLaterChange={chooseLater}
        value={sendAt}
        onChange={(value) => {
          setSendAt(value);
          clearFieldError("scheduledAt");
        }}
        timeZone={schedule?.timeZone ?? ""}
        bounds={schedule?.bounds ?? null}
        draftOnly={!canSend || (edit !== undefined && !edit.scheduled)}
        timeRequired={edit?.scheduled}
        error={errors.fields.scheduledAt}
        inputRef={sendAtRef}
      />

      {!canSend && !edit && (
        <p
          id="draft-only"
          className="rounded-lg border border-violet-200 bg-violet-50 p-4 text-sm text-violet-950"
        >
          Your key may not send campaigns. This one will be saved as a draft: someone whose key
          may send campaigns can then send it from its page.
        </p>
      )}

      {edit ? (
        <div className="flex flex-col-reverse gap-3 sm:flex-row sm:items-center sm:justify-end">
          <p className="text-sm text-slate-600 sm:mr-auto">
            {keepsList && analysis.valid.length === 0
              ? `Keeps its ${plural(edit?.totalEmails ?? 0, "recipient", "recipients")}.`
              : analysis.valid.length === 0
                ? "Add recipients to save."
                : `Goes to ${plural(analysis.valid.length, "recipient", "recipients")}.`}
          </p>
          <button
            type="button"
            className={buttonSecondary}
            disabled={submitting}
            onClick={edit.onCancel}
          >
            Discard changes
          </button>
          <button type="submit" className={buttonPrimary} disabled={submitting}>
            {submitting && <ButtonSpinner />}
            Save changes
          </button>
        </div>
      ) : (
      <div className="flex flex-col-reverse gap-3 sm:flex-row sm:items-center sm:justify-end">
        <p className="text-sm text-slate-600 sm:mr-auto">
          {analysis.valid.length === 0
            ? canSend
              ? "Add recipients to send."
              : "Add recipients to save."
            : !canSend
              ? `Ready to save with ${plural(analysis.valid.length, "recipient", "recipients")}.`
              : later
                ? `Ready to schedule for ${plural(analysis.valid.length, "recipient", "recipients")}.`
                : `Ready to send to ${plural(analysis.valid.length, "recipient", "recipients")}.`}
        </p>
        {canSend ? (
          <>
            <button
              type="button"
              className={buttonSecondary}
              disabled={submitting}
              onClick={() => send(true)}
            >
              {submitting && savingDraft && <ButtonSpinner light={false} />}
              Save as draft
            </button>
            <button type="submit" className={buttonPrimary} disabled={submitting}>
              {submitting && !savingDraft && <ButtonSpinner />}
              {later ? "Schedule campaign" : "Send campaign"}
            </button>
          </>
        ) : (
          <button
            type="submit"
            className={buttonPrimary}
            disabled={submitting}
            aria-describedby="draft-only"
          >
            {submitting && <ButtonSpinner />}
            Save as draft
          </button>
        )}
      </div>
      )}
    </form>
  );
}
