import type { CampaignField } from "./api/submit-errors";
import type { CreateCampaignRequest, RecipientEntry } from "./api/types";
import type { ValidRecipient } from "./recipients";

/** The server's limits (domain/src/campaign.rs). */
export const MAX_SUBJECT_CHARS = 255;
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface FormValues {
  subject: string;
  body: string;
  recipients: readonly ValidRecipient[];
}

/** What the server would refuse, checked before sending; empty when the form can be sent. */
export function validateCampaignForm(values: FormValues): Partial<Record<CampaignField, string>> {
  const errors: Partial<Record<CampaignField, string>> = {};
  const subject = values.subject.trim();
  if (/[\u0000-\u001f\u007f-\u009f]/.test(values.subject)) {
    errors.subject = "The subject must be one line, without line breaks or control characters.";
  } else if (subject === "") {
    errors.subject = "Enter a subject.";
  } else if ([...subject].length > MAX_SUBJECT_CHARS) {
    errors.subject = `The subject is longer than ${MAX_SUBJECT_CHARS} characters.`;
  }
  if (values.body.trim() === "") {
    errors.body = "Enter the HTML body of the email.";
  } else if (new TextEncoder().encode(values.body).length > MAX_BODY_BYTES) {
    errors.body = "The HTML body is larger than 2 MiB.";
  }
  if (values.recipients.length === 0) {
    errors.recipients = "Add at least one valid recipient.";
  }
  return errors;
}

/**
 * The request body for `POST /api/emails`. `draft` stores the campaign without sending it; it is
 * left out otherwise (a key that may not send gets a draft anyway). `scheduledAt` (UTC, checked
 * already) sends it then rather than now; a draft keeps it for when it is sent.
 */
export function toCreateRequest(
  values: FormValues,
  draft = false,
  scheduledAt?: string,
): CreateCampaignRequest {
  const recipients: RecipientEntry[] = values.recipients.map(toRecipientEntry);
  const request: CreateCampaignRequest = { subject: values.subject.trim(), body: values.body, recipients };
  if (draft) request.draft = true;
  if (scheduledAt) request.scheduledAt = scheduledAt;
  return request;
}

/** A recipient as the API takes it: a bare address unless it has a name or fields. */
export function toRecipientEntry(r: ValidRecipient): RecipientEntry {
  const hasFields = r.fields !== undefined && Object.keys(r.fields).length > 0;
  if (!r.name && !hasFields) return r.email;
  const entry: Exclude<RecipientEntry, string> = { email: r.email };
  if (r.name) entry.name = r.name;
  if (hasFields) entry.fields = r.fields;
  return entry;
}

/**
 * A random key for the `Idempotency-Key` header (a UUID v4). `crypto.randomUUID` exists only in
 * secure contexts, and the dashboard may be served over plain HTTP on a private network.
 */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
