import type { CampaignStatus, RecipientStatus } from "./api/types";

/** A 1-based page number from a query parameter; 1 when missing or not a positive integer. */
export function parsePage(value: string | string[] | undefined): number {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw || !/^\d{1,6}$/.test(raw)) return 1;
  const n = Number.parseInt(raw, 10);
  return n >= 1 ? n : 1;
}

export type RecipientFilter = "all" | "pending" | "sent" | "failed" | "cancelled" | "suppressed";

export const RECIPIENT_FILTERS: readonly RecipientFilter[] = [
  "all",
  "pending",
  "sent",
  "failed",
  "cancelled",
  "suppressed",
];

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
    case "cancelled":
      return "CANCELLED";
    case "suppressed":
      return "SUPPRESSED";
    default:
      return undefined;
  }
}

/** The campaign statuses the list can be filtered by, in the order the tabs show them. */
export const CAMPAIGN_STATUSES: readonly CampaignStatus[] = [
  "DRAFT",
  "SCHEDULED",
  "PENDING",
  "PROCESSING",
  "PAUSED",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
];

/** Which campaigns the list shows: a status (undefined: all) and a subject search. */
export interface CampaignListFilter {
  status?: CampaignStatus;
  q?: string;
}

/** The list's filter from its query parameters; what is missing or invalid is left out. */
export function parseCampaignListFilter(
  status: string | string[] | undefined,
  q: string | string[] | undefined,
): CampaignListFilter {
  const rawStatus = (Array.isArray(status) ? status[0] : status)?.toUpperCase();
  const rawQ = (Array.isArray(q) ? q[0] : q)?.trim();
  const filter: CampaignListFilter = {};
  if (rawStatus && (CAMPAIGN_STATUSES as readonly string[]).includes(rawStatus)) {
    filter.status = rawStatus as CampaignStatus;
  }
  // What the API accepts: 1 to 255 characters, no control characters.
  if (rawQ && rawQ.length <= 255 && !/[\u0000-\u001f\u007f-\u009f]/.test(rawQ)) {
    filter.q = rawQ;
  }
  return filter;
}

/** The list's URL for `filter` and `page` (page 1 and empty parts left out). */
export function campaignListHref(filter: CampaignListFilter, page = 1): string {
  const params = new URLSearchParams();
  if (filter.status) params.set("status", filter.status.toLowerCase());
  if (filter.q) params.set("q", filter.q);
  if (page > 1) params.set("page", String(page));
  const query = params.toString();
  return query ? `/?${query}` : "/";
}
