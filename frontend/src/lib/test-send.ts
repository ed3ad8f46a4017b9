import { ApiError } from "./api/errors";
import type { components } from "./api/schema";
import type { ErrorDetails, RecipientRow } from "./api/types";

export type TestSendRequest = components["schemas"]["TestSendRequest"];
export type TestSendResult = components["schemas"]["TestSendResult"];

/** The most addresses one test send may go to (`POST /api/emails/{id}/test`). */
export const MAX_TEST_ADDRESSES = 5;

/** The addresses typed for a test: separated by commas, semicolons, spaces or new lines. */
export function splitAddresses(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
}

/** What is wrong with the typed addresses before asking the API, if anything. */
export function addressProblem(addresses: readonly string[]): string | null {
  if (addresses.length === 0) return "Enter at least one address.";
  if (addresses.length > MAX_TEST_ADDRESSES) {
    return `A test goes to at most ${MAX_TEST_ADDRESSES} addresses; you entered ${addresses.length}.`;
  }
  return null;
}

/**
 * Whom the test is rendered for: left out (the campaign's first recipient), or the typed
 * address, with its name and fields when it is one of `known` (the campaign's recipients the
 * page has read), so that its merge tags are filled in as they will be for that recipient.
 */
export function sampleRecipient(
  typed: string,
  known: readonly RecipientRow[],
): TestSendRequest["recipient"] {
  const email = typed.trim();
  if (!email) return undefined;
  const row = known.find((r) => r.email.toLowerCase() === email.toLowerCase());
  if (!row) return email;
  return {
    email: row.email,
    ...(row.name ? { name: row.name } : {}),
    ...(Object.keys(row.fields ?? {}).length > 0 ? { fields: row.fields } : {}),
  };
}

const STORAGE_KEY = "paloma.test-send.to";

/** The addresses the last test went to, as typed; "" when none or storage is unavailable. */
export function loadLastAddresses(): string {
  try {
    return window.localStorage.getItem(STORAGE_KEY) ?? "";
  } catch {
    return "";
  }
}

export function saveLastAddresses(text: string): void {
  try {
    window.localStorage.setItem(STORAGE_KEY, text.trim());
  } catch {
    // Private mode or storage full: the addresses are just not remembered.
  }
}

/** A failed test send, spread over the panel: each message next to what it concerns. */
export interface TestSendErrors {
  to?: string;
  recipient?: string;
  form?: string;
}

function withStop(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function sentence(message: string): string {
  const text = message.trim();
  if (!text) return text;
  const first = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/**
 * The API says which address is wrong by its 0-based position ("address 1: ..."): it is named
 * by what the user typed instead (as typed, not capitalised).
 */
function addressMessage(message: string, sent: readonly string[]): string {
  const match = /^address (\d+): (.*)$/s.exec(message);
  const typed = match ? sent[Number(match[1])] : undefined;
  return match && typed !== undefined ? `${typed}: ${withStop(match[2] ?? "")}` : sentence(message);
}

function join(existing: string | undefined, message: string): string {
  return existing ? `${existing} ${message}` : message;
}

/** The field errors and invalid recipients of a 422, when the API sent them. */
function validation(details: ErrorDetails | undefined) {
  const record = details && "fields" in details ? details : undefined;
  return {
    fields: Array.isArray(record?.fields) ? record.fields : [],
    invalid: Array.isArray(record?.invalidRecipients) ? record.invalidRecipients : [],
  };
}

/** Maps a failed `POST /api/emails/{id}/test` (for the addresses `sent`) to the panel. */
export function testSendErrors(error: unknown, sent: readonly string[]): TestSendErrors {
  if (!(error instanceof ApiError)) return { form: "The test could not be sent. Try again." };
  if (error.unreachable) {
    return { form: "The Paloma API cannot be reached, so nothing was sent. Try again in a moment." };
  }
  switch (error.code) {
    case "validation_failed":
    case "invalid_request": {
      const result: TestSendErrors = {};
      const { fields, invalid } = validation(error.details);
      for (const item of fields) {
        if (typeof item?.message !== "string") continue;
        if (item.field === "to") {
          result.to = join(result.to, addressMessage(item.message, sent));
        } else if (item.field === "recipient" || item.field === "recipients") {
          result.recipient = join(result.recipient, sentence(item.message));
        } else {
          result.form = join(result.form, sentence(`${item.field}: ${item.message}`));
        }
      }
      for (const item of invalid) {
        if (typeof item?.reason !== "string") continue;
        result.recipient = join(result.recipient, sentence(item.reason));
      }
      if (!result.to && !result.recipient && !result.form) result.form = sentence(error.message);
      return result;
    }
    case "forbidden":
      return { form: "Your key may not send campaigns, so nothing was sent." };
    case "not_found":
      return { form: "This campaign no longer exists." };
    default:
      // A 503 says why (no worker took it, or a dependency is down): its message is shown.
      return { form: sentence(error.message) };
  }
}
