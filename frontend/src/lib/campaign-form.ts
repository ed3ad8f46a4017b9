import type { CampaignField } from "./api/submit-errors";
import type { CreateCampaignRequest, RecipientEntry } from "./api/types";
import { MAX_NAME_LENGTH, emailProblem, type ValidRecipient } from "./recipients";

/** The server's limits (domain/src/campaign.rs). */
export const MAX_SUBJECT_CHARS = 255;
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** The form's optional sender: each part "" when not filled (the server's `MAIL_FROM`, no `Reply-To`). */
export interface SenderValues {
  fromName: string;
  fromEmail: string;
  replyTo: string;
}

export const NO_SENDER: SenderValues = { fromName: "", fromEmail: "", replyTo: "" };

export interface FormValues {
  subject: string;
  body: string;
  recipients: readonly ValidRecipient[];
  sender?: SenderValues;
}

function sentence(problem: string): string {
  return `${problem.charAt(0).toUpperCase()}${problem.slice(1)}.`;
}

/**
 * What the server would refuse in the sender, by the API's field names. Whether the From's
 * domain is allowed is the server's to say (`ALLOWED_FROM_DOMAINS`): its 422 shows on the field.
 */
export function validateSender(sender: SenderValues): Partial<Record<CampaignField, string>> {
  const errors: Partial<Record<CampaignField, string>> = {};
  const name = sender.fromName.trim();
  const from = sender.fromEmail.trim();
  const replyTo = sender.replyTo.trim();
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) {
    errors["from.name"] = "The From name must be one line, without control characters.";
  } else if ([...name].length > MAX_NAME_LENGTH) {
    errors["from.name"] = `The From name is longer than ${MAX_NAME_LENGTH} characters.`;
  }
  if (from === "") {
    if (name !== "") errors["from.email"] = "Enter the From address that goes with this name.";
  } else {
    const problem = emailProblem(from);
    if (problem) errors["from.email"] = sentence(problem);
  }
  if (replyTo !== "") {
    const problem = emailProblem(replyTo);
    if (problem) errors.replyTo = sentence(problem);
  }
  return errors;
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
  if (values.sender) Object.assign(errors, validateSender(values.sender));
  return errors;
}

/**
 * The request body for `POST /api/emails`. `draft` stores the campaign without sending it; it is
 * left out otherwise (a key that may not send gets a draft anyway). `scheduledAt` (UTC, checked
 * already) sends it then rather than now; a draft keeps it for when it is sent. `from` and
 * `replyTo` are sent only when their fields are filled.
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
  // The sender only when filled: left out, the server's own applies.
  const fromEmail = values.sender?.fromEmail.trim() ?? "";
  const fromName = values.sender?.fromName.trim() ?? "";
  const replyTo = values.sender?.replyTo.trim() ?? "";
  if (fromEmail !== "") request.from = fromName !== "" ? { name: fromName, email: fromEmail } : { email: fromEmail };
  if (replyTo !== "") request.replyTo = replyTo;
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
