import { useState } from "react";

import { api } from "@/lib/api/client";
import { unwrap } from "@/lib/api/errors";
import type { CampaignField, SubmitErrors } from "@/lib/api/submit-errors";
import type { Campaign, EditCampaignRequest } from "@/lib/api/types";
import { editFailure } from "@/lib/campaign-edit";
import { toCreateRequest, validateCampaignForm } from "@/lib/campaign-form";
import { analyseFormRecipients, type ValidRecipient } from "@/lib/recipients";
import { checkSendTime } from "@/lib/schedule";

import { csvRecipients, type CsvState } from "./CsvUpload";

const EMPTY_ERRORS: SubmitErrors = { fields: {}, recipients: [], invalidRecipientCount: 0 };

/** What the editor started from: the campaign as it was loaded into the fields. */
export interface EditStart {
  subject: string;
  body: string;
  /** The recipients field's text, "" when the list was too long to load. */
  pasted: string;
  /** Whether `pasted` holds the whole list (else an empty field keeps the list as it is). */
  prefilled: boolean;
  /** The send time, UTC, or null. */
  scheduledAt: string | null;
  /** That time as the picker showed it (local, in the browser's time zone), "" without one. */
  sendAt: string;
}

export interface EditFields {
  subject: string;
  body: string;
  pasted: string;
  csv: CsvState | null;
  /** The picker's local date and time, or null for no send time (a draft only). */
  sendAt: string | null;
  timeZone: string;
}

/**
 * The changes between `start` and `fields`, as a `PATCH` body (only the fields that changed),
 * or the local errors that stop it. `recipients` is what would be sent as the new list.
 */
export function editRequest(
  start: EditStart,
  fields: EditFields,
  now: number,
):
  | { ok: true; request: EditCampaignRequest; recipients: ValidRecipient[] }
  | { ok: false; errors: Partial<Record<CampaignField, string>> } {
  const recipients = analyseFormRecipients(fields.pasted, csvRecipients(fields.csv)).valid;
  const recipientsChanged = fields.csv !== null || fields.pasted !== start.pasted;
  // A list too long to load is kept while its field is left empty.
  const keepList = !start.prefilled && fields.pasted.trim() === "" && fields.csv === null;
  const errors = validateCampaignForm({ subject: fields.subject, body: fields.body, recipients });
  if (keepList) delete errors.recipients;
  if (fields.csv && !fields.csv.result.ok && !errors.recipients) {
    errors.recipients = "The CSV file could not be used: remove it or upload another one.";
  }
  const request: EditCampaignRequest = {};
  if (fields.subject.trim() !== start.subject) request.subject = fields.subject.trim();
  if (fields.body !== start.body) request.body = fields.body;
  if (recipientsChanged && !keepList) {
    request.recipients = toCreateRequest({ subject: "", body: "", recipients }).recipients;
  }
  if (fields.sendAt === null) {
    if (start.scheduledAt !== null) request.scheduledAt = null;
  } else {
    const checked = checkSendTime(fields.sendAt, fields.timeZone, now);
    if (!checked.ok) {
      // A time left as it was is not checked again: only a new one must be ahead.
      const unchanged = start.scheduledAt !== null && fields.sendAt === start.sendAt;
      if (!unchanged) errors.scheduledAt = checked.error;
    } else if (
      start.scheduledAt === null ||
      Date.parse(checked.scheduledAt) !== Date.parse(start.scheduledAt)
    ) {
      request.scheduledAt = checked.scheduledAt;
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, request, recipients };
}

/**
 * Saving the editor: checks the fields, sends what changed with `PATCH /api/emails/{id}` and
 * hands the campaign back to `onSaved`, or spreads the API's errors over the fields.
 */
export function useEditCampaign(
  campaignId: string,
  onInvalid: (fields: Partial<Record<CampaignField, string>>) => void,
  onSaved: (campaign: Campaign | null) => void,
) {
  const [errors, setErrors] = useState<SubmitErrors>(EMPTY_ERRORS);
  const [saving, setSaving] = useState(false);
  const [submitted, setSubmitted] = useState<ValidRecipient[]>([]);

  async function save(start: EditStart, fields: EditFields) {
    if (saving) return;
    const built = editRequest(start, fields, Date.now());
    if (!built.ok) {
      setErrors({ ...EMPTY_ERRORS, fields: built.errors });
      onInvalid(built.errors);
      return;
    }
    if (Object.keys(built.request).length === 0) {
      // Nothing changed: nothing to send.
      setErrors(EMPTY_ERRORS);
      onSaved(null);
      return;
    }
    setSaving(true);
    setErrors(EMPTY_ERRORS);
    setSubmitted(built.recipients);
    try {
      const campaign = await unwrap(
        api().PATCH("/api/emails/{id}", {
          params: { path: { id: campaignId } },
          body: built.request,
        }),
      );
      setSaving(false);
      onSaved(campaign);
    } catch (error) {
      const mapped = editFailure(error);
      setErrors(mapped);
      onInvalid(mapped.fields);
      setSaving(false);
    }
  }

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

  return { errors, saving, submitted, save, clearFieldError };
}
