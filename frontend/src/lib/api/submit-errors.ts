import type { ApiError } from "./errors";
import type { ErrorDetails, FieldError, RecipientLimitDetails, ValidationDetails } from "./types";

/**
 * The form fields a create-campaign error can concern, named as the API names them
 * (`scheduledAt`: the send time; `from.name`, `from.email`, `replyTo`: the sender).
 */
export type CampaignField =
  | "subject"
  | "body"
  | "recipients"
  | "scheduledAt"
  | "from.name"
  | "from.email"
  | "replyTo";

const FIELDS: readonly CampaignField[] = [
  "subject",
  "body",
  "recipients",
  "scheduledAt",
  "from.name",
  "from.email",
  "replyTo",
];

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

const TOO_LARGE =
  "The campaign is too large to send in one request. Shorten the HTML body or split the recipients.";
const UNAVAILABLE =
  "The service is temporarily unavailable, so nothing was saved. Try again in a moment.";

function isField(value: unknown): value is CampaignField {
  return typeof value === "string" && (FIELDS as readonly string[]).includes(value);
}

function capitalise(message: string): string {
  const text = message.trim();
  if (!text) return text;
  const first = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** The field details of `validation_failed` and `invalid_request`, when the API sent them. */
function validationDetails(details: ErrorDetails | undefined): Partial<ValidationDetails> {
  return details && "fields" in details ? details : {};
}

/** The recipient limit of a `payload_too_large` for too many recipients. */
function recipientLimit(details: ErrorDetails | undefined): RecipientLimitDetails | undefined {
  return details && "maxRecipients" in details && typeof details.maxRecipients === "number"
    ? details
    : undefined;
}

/** Puts each field error next to its field; what concerns no form field comes back unplaced. */
function placeFields(items: readonly FieldError[], result: SubmitErrors): string[] {
  const unplaced: string[] = [];
  for (const item of items) {
    if (typeof item?.message !== "string") continue;
    const index = typeof item.index === "number" ? item.index : undefined;
    if (isField(item.field)) {
      const message = capitalise(
        index === undefined ? item.message : `recipient ${index + 1}: ${item.message}`,
      );
      const existing = result.fields[item.field];
      result.fields[item.field] = existing ? `${existing} ${message}` : message;
    } else {
      unplaced.push(capitalise(`${String(item.field)}: ${item.message}`));
    }
  }
  return unplaced;
}

/**
 * Maps a failed `POST /api/emails` to the form by its `code`: the field details of
 * `validation_failed` and `invalid_request` (`fields`, `invalidRecipients`) go next to their
 * fields, the recipient limit of `payload_too_large` next to the recipients, the rest becomes a
 * form-level message.
 */
export function mapSubmitError(error: ApiError): SubmitErrors {
  const result: SubmitErrors = { fields: {}, recipients: [], invalidRecipientCount: 0 };

  switch (error.code) {
    case "validation_failed":
    case "invalid_request": {
      const details = validationDetails(error.details);
      const unplaced = placeFields(Array.isArray(details.fields) ? details.fields : [], result);
      const invalid = Array.isArray(details.invalidRecipients) ? details.invalidRecipients : [];
      for (const item of invalid) {
        if (typeof item?.index !== "number") continue;
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
        // Refused for a merge tag they have no value for, not for their address.
        const missing =
          result.recipients.length > 0 &&
          result.recipients.every((r) => r.reason.startsWith("no value for"));
        result.fields.recipients = missing
          ? `${n} ${n === 1 ? "recipient has" : "recipients have"} no value for a merge tag of the subject or body.`
          : `The server refused ${n} invalid ${n === 1 ? "address" : "addresses"}.`;
      }
      if (unplaced.length > 0) result.form = unplaced.join(" ");
      if (Object.keys(result.fields).length === 0 && !result.form) {
        result.form =
          error.code === "invalid_request"
            ? `The server rejected the request: ${error.message}`
            : capitalise(error.message);
      }
      return result;
    }

    case "payload_too_large": {
      const limit = recipientLimit(error.details);
      if (limit) {
        const got = typeof limit.recipients === "number" ? `: ${limit.recipients}` : "";
        result.fields.recipients =
          `Too many recipients${got}; the limit is ${limit.maxRecipients} per campaign.`;
      } else {
        result.form = TOO_LARGE;
      }
      return result;
    }

    case "idempotency_conflict":
      result.form =
        "This submission conflicts with an earlier one that had different content. Send it again.";
      return result;

    case "forbidden": {
      const details = error.details;
      const scope =
        details && "requiredScope" in details && typeof details.requiredScope === "string"
          ? details.requiredScope
          : undefined;
      result.form = scope
        ? `Your key may not do this (it lacks the ${scope} permission), so nothing was saved.`
        : "Your key may not do this, so nothing was saved.";
      return result;
    }

    case "service_unavailable":
      result.form = UNAVAILABLE;
      return result;

    default:
      // Other codes, and answers without the API's error body (a proxy or a gateway answered,
      // or nothing did).
      if (error.unreachable) {
        result.form = "The Paloma API cannot be reached, so nothing was sent. Try again in a moment.";
      } else if (error.status === 413) {
        result.form = TOO_LARGE;
      } else if (error.status === 503) {
        result.form = UNAVAILABLE;
      } else {
        result.form = capitalise(error.message);
      }
      return result;
  }
}
