import type { RecipientStatus } from "./api/types";

/** A 1-based page number from a query parameter; 1 when missing or not a positive integer. */
export function parsePage(value: string | string[] | undefined): number {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw || !/^\d{1,6}$/.test(raw)) return 1;
  const n = Number.parseInt(raw, 10);
  return n >= 1 ? n : 1;
}

export type RecipientFilter = "all" | "pending" | "sent" | "failed";

export const RECIPIENT_FILTERS: readonly RecipientFilter[] = ["all", "pending", "sent", "failed"];

/** The recipients filter from a query parameter; "all" when missing or unknown. */
export function parseRecipientFilter(value: string | string[] | undefined): RecipientFilter {
  const raw = (Array.isArray(value) ? value[0] : value)?.toLowerCase();
  return (RECIPIENT_FILTERS as readonly string[]).includes(raw ?? "")
    ? (raw as RecipientFilter)
    : "all";
}

/** The API's status for a filter; undefined for "all". */
export function filterStatus(filter: RecipientFilter): RecipientStatus | undefined {
  switch (filter) {
    case "pending":
      return "PENDING";
    case "sent":
      return "SENT";
    case "failed":
      return "FAILED";
    default:
      return undefined;
  }
}
