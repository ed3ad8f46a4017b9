import { useRouter } from "next/navigation";
import { useRef, useState } from "react";

import { api } from "@/lib/api/client";
import { ApiError, unwrap } from "@/lib/api/errors";
import { mapSubmitError, type CampaignField, type SubmitErrors } from "@/lib/api/submit-errors";
import {
  newIdempotencyKey,
  toCreateRequest,
  validateCampaignForm,
  type SenderValues,
} from "@/lib/campaign-form";
import { analyseFormRecipients, type ValidRecipient } from "@/lib/recipients";
import { checkSendTime } from "@/lib/schedule";

import { csvRecipients, type CsvState } from "./CsvUpload";

const EMPTY_ERRORS: SubmitErrors = { fields: {}, recipients: [], invalidRecipientCount: 0 };

/** What is in the form's fields when it is sent. */
export interface CampaignFields {
  subject: string;
  body: string;
  pasted: string;
  csv: CsvState | null;
  /** Store it as a draft, to be sent later (`draft: true`), rather than send it now. */
  draft: boolean;
  /**
   * When to send it: null for as soon as it is sent, else the picker's local date and time,
   * read in `timeZone` (the browser's).
   */
  sendAt: string | null;
  timeZone: string;
  /** Its own From and Reply-To, each part "" when not filled. */
  sender?: SenderValues;
}

/**
 * Sending the form: checks the fields, creates the campaign (sent, or kept as a draft) and opens
 * it, or spreads the API's errors over the fields. `onInvalid` is told which fields failed (to
 * focus the first).
 */
export function useSubmitCampaign(
  onInvalid: (fields: Partial<Record<CampaignField, string>>) => void,
) {
  const router = useRouter();
  const [errors, setErrors] = useState<SubmitErrors>(EMPTY_ERRORS);
  const [submitting, setSubmitting] = useState(false);
  // What was last sent, to map the server's recipient indexes back to lines and rows.
  const [submitted, setSubmitted] = useState<ValidRecipient[]>([]);
  // One Idempotency-Key per content: sending the same campaign again (a double click, a retry
  // after a lost answer) cannot create it twice; changed content gets a new key.
  const attempt = useRef<{ fingerprint: string; key: string } | null>(null);

  /** Editing a field clears its error. */
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

  async function submit({
    subject,
    body,
    pasted,
    csv,
    draft,
    sendAt,
    timeZone,
    sender,
  }: CampaignFields) {
    if (submitting) return;
    // Analyse what is in the fields now, not the deferred values.
    const recipients = analyseFormRecipients(pasted, csvRecipients(csv)).valid;
    const values = { subject, body, recipients, sender };
    const local = validateCampaignForm(values);
    if (csv && !csv.result.ok && !local.recipients) {
      local.recipients = "The CSV file could not be used: remove it or upload another one.";
    }
    // The send time is checked against the clock now, as the server will check it.
    const schedule = sendAt === null ? null : checkSendTime(sendAt, timeZone, Date.now());
    if (schedule && !schedule.ok) local.scheduledAt = schedule.error;
    if (Object.keys(local).length > 0) {
      setErrors({ ...EMPTY_ERRORS, fields: local });
      onInvalid(local);
      return;
    }

    setSubmitting(true);
    setErrors(EMPTY_ERRORS);
    setSubmitted(recipients);
    const request = toCreateRequest(values, draft, schedule?.ok ? schedule.scheduledAt : undefined);
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
      onInvalid(mapped.fields);
      setSubmitting(false);
    }
  }

  return { errors, submitting, submitted, clearFieldError, submit };
}
