import type { ApiError } from "./errors";

/** The form fields a create-campaign error can concern. */
export type CampaignField = "subject" | "body" | "recipients";

const FIELDS: readonly CampaignField[] = ["subject", "body", "recipients"];

/** One submitted recipient the API refused: `index` is its position in the submitted list. */
export interface RecipientIssue {
  index: number;
  value: string;
  reason: string;
}

/** A create-campaign failure, spread over the form: each message next to the field it concerns. */
export interface SubmitErrors {
  fields: Partial<Record<CampaignField, string>>;
  /** The first invalid recipients the API listed (at most 100). */
  recipients: RecipientIssue[];
  /** How many recipients the API found invalid in all (may exceed `recipients.length`). */
  invalidRecipientCount: number;
  /** A message that concerns no one field. */
  form?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isField(value: unknown): value is CampaignField {
  return typeof value === "string" && (FIELDS as readonly string[]).includes(value);
}

function capitalise(message: string): string {
  const text = message.trim();
  if (!text) return text;
  const first = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/**
 * The field a serde error message names, e.g. "missing field `subject`" or
 * "recipients[3]: data did not match any variant ...".
 */
function fieldOfRequestMessage(message: string): CampaignField | undefined {
  const missing = /missing field `(\w+)`/.exec(message);
  if (missing && isField(missing[1])) return missing[1];
  const path = /^(\w+)(?:\[\d+\])?[.:[]/.exec(message);
  if (path && isField(path[1])) return path[1];
  return undefined;
}

/**
 * Maps a failed `POST /api/emails` to the form: 422 `validation_failed` details (`fields` and
 * `invalidRecipients`) go next to their fields, the rest becomes a form-level message.
 */
export function mapSubmitError(error: ApiError): SubmitErrors {
  const result: SubmitErrors = { fields: {}, recipients: [], invalidRecipientCount: 0 };
  const details = isRecord(error.details) ? error.details : {};

  if (error.status === 422 && error.code === "validation_failed") {
    const unplaced: string[] = [];
    const fields = Array.isArray(details.fields) ? details.fields : [];
    for (const item of fields) {
      if (!isRecord(item) || typeof item.message !== "string") continue;
      if (isField(item.field)) {
        const message = capitalise(item.message);
        const existing = result.fields[item.field];
        result.fields[item.field] = existing ? `${existing} ${message}` : message;
      } else {
        unplaced.push(capitalise(`${String(item.field)}: ${item.message}`));
      }
    }
    const invalid = Array.isArray(details.invalidRecipients) ? details.invalidRecipients : [];
    for (const item of invalid) {
      if (!isRecord(item) || typeof item.index !== "number") continue;
      result.recipients.push({
        index: item.index,
        value: typeof item.value === "string" ? item.value : "",
        reason: typeof item.reason === "string" ? item.reason : "invalid",
      });
    }
    result.invalidRecipientCount =
      typeof details.invalidRecipientCount === "number"
        ? details.invalidRecipientCount
        : result.recipients.length;
    if (result.invalidRecipientCount > 0 && !result.fields.recipients) {
      const n = result.invalidRecipientCount;
      result.fields.recipients = `The server refused ${n} invalid ${n === 1 ? "address" : "addresses"}.`;
    }
    if (unplaced.length > 0) result.form = unplaced.join(" ");
    if (Object.keys(result.fields).length === 0 && !result.form) {
      result.form = capitalise(error.message);
    }
    return result;
  }

  if (error.status === 422) {
    const field = fieldOfRequestMessage(error.message);
    if (field) result.fields[field] = capitalise(error.message);
    else result.form = `The server rejected the request: ${error.message}`;
    return result;
  }

  if (error.status === 413) {
    if (typeof details.maxRecipients === "number") {
      const got = typeof details.recipients === "number" ? details.recipients : undefined;
      result.fields.recipients =
        `Too many recipients${got === undefined ? "" : `: ${got}`}; ` +
        `the limit is ${details.maxRecipients} per campaign.`;
    } else {
      result.form =
        "The campaign is too large to send in one request. Shorten the HTML body or split the recipients.";
    }
    return result;
  }

  if (error.status === 409) {
    result.form =
      "This submission conflicts with an earlier one that had different content. Send it again.";
    return result;
  }

  if (error.status === 503) {
    result.form =
      "The service is temporarily unavailable, so nothing was saved. Try again in a moment.";
  } else if (error.unreachable) {
    result.form = "The Paloma API cannot be reached, so nothing was sent. Try again in a moment.";
  } else {
    result.form = capitalise(error.message);
  }
  return result;
}
