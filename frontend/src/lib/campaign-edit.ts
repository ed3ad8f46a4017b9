import { ApiError } from "./api/errors";
import { mapSubmitError, type SubmitErrors } from "./api/submit-errors";
import type { Campaign, CampaignStatus, RecipientRow } from "./api/types";
import { plural } from "./format";

/**
 * The editor loads at most this many recipients into its field (pages of `RECIPIENT_PAGE`, the
 * API's largest). A longer list is not loaded: the field starts empty, and left empty it keeps
 * the list as it is.
 */
export const MAX_PREFILL_RECIPIENTS = 2000;
export const RECIPIENT_PAGE = 200;

/** Whether the campaign can be edited (the API answers 409 `invalid_state` otherwise). */
export function isEditable(status: CampaignStatus): boolean {
  return status === "DRAFT" || status === "SCHEDULED";
}

/** One recipient as a line of the recipients field: `email`, `Name <email>`, `"Doe, Jane" <email>`. */
export function recipientLine(row: Pick<RecipientRow, "email" | "name">): string {
  const name = row.name?.trim();
  if (!name) return row.email;
  const safe = /^[^,;"<>\\]+$/.test(name) ? name : `"${name.replace(/(["\\])/g, "\\$1")}"`;
  return `${safe} <${row.email}>`;
}

/** The recipients field's text for a campaign's recipients, one per line. */
export function recipientsText(rows: readonly Pick<RecipientRow, "email" | "name">[]): string {
  return rows.map(recipientLine).join("\n");
}

/** What a 409 `invalid_state` on an edit says: the campaign is no longer a draft or scheduled. */
function notEditable(error: ApiError): string {
  const details: unknown = error.details;
  const status =
    typeof details === "object" && details !== null && "status" in details
      ? (details as { status: unknown }).status
      : undefined;
  if (status === "CANCELLED") return "This campaign was cancelled; it can no longer be edited.";
  return "This campaign has started sending; it can no longer be edited.";
}

/** A failed `PATCH /api/emails/{id}`, spread over the form as a failed creation is. */
export function editFailure(error: unknown): SubmitErrors {
  const apiError =
    error instanceof ApiError
      ? error
      : new ApiError(0, "network_error", "The server cannot be reached.");
  if (apiError.status === 409) {
    return { fields: {}, recipients: [], invalidRecipientCount: 0, form: notEditable(apiError) };
  }
  if (apiError.status === 404) {
    return {
      fields: {},
      recipients: [],
      invalidRecipientCount: 0,
      form: "This campaign no longer exists.",
    };
  }
  const mapped = mapSubmitError(apiError);
  if (apiError.unreachable) {
    mapped.form = "The Paloma API cannot be reached, so nothing was saved. Try again in a moment.";
  }
  return mapped;
}

export type DuplicateWhich = "all" | "failed" | "unsent";

export interface DuplicateChoice {
  which: DuplicateWhich;
  label: string;
  count: number;
}

/**
 * What a duplicate of `campaign` may take: all its recipients, and, when they are some but not
 * all of them, only the failed ones or only the unsent ones (failed, cancelled or still
 * pending), each with how many that is.
 */
export function duplicateChoices(campaign: Campaign): DuplicateChoice[] {
  const total = campaign.totalEmails;
  const failed = campaign.failedEmails;
  const unsent = failed + (campaign.cancelledEmails ?? 0) + campaign.pendingEmails;
  const choices: DuplicateChoice[] = [
    { which: "all", label: `All recipients (${plural(total, "recipient", "recipients")})`, count: total },
  ];
  if (failed > 0 && failed < total) {
    choices.push({ which: "failed", label: `Only the failed (${plural(failed, "recipient", "recipients")})`, count: failed });
  }
  if (unsent > 0 && unsent < total && unsent !== failed) {
    choices.push({
      which: "unsent",
      label: `Only the unsent: failed, cancelled or not sent yet (${plural(unsent, "recipient", "recipients")})`,
      count: unsent,
    });
  }
  return choices;
}

/** What to say when a duplicate failed. */
export function duplicateFailure(which: DuplicateWhich, error: unknown): string {
  if (!(error instanceof ApiError)) return "The campaign could not be duplicated. Try again.";
  // The campaign has no recipient in the state asked for (the API's `invalid_state`).
  if (error.status === 409 && error.code === "invalid_state") {
    if (which === "failed") return "No recipient of this campaign has failed, so there is nothing to duplicate.";
    if (which === "unsent") return "Every recipient of this campaign was sent, so there is nothing to duplicate.";
    return "This campaign has no recipients, so there is nothing to duplicate.";
  }
  if (error.status === 403) return "Your key may not create campaigns.";
  if (error.status === 404) return "This campaign no longer exists.";
  if (error.unreachable) {
    return "The Paloma API cannot be reached, so nothing was duplicated. Try again.";
  }
  return error.message;
}
