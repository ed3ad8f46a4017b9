import type { CampaignStatus, RecipientStatus } from "@/lib/api/types";

// Every pair of text and background reaches at least 7:1 (WCAG AAA for small text).
const STYLES: Record<CampaignStatus | RecipientStatus, string> = {
  DRAFT: "bg-violet-50 text-violet-800 ring-violet-300",
  SCHEDULED: "bg-sky-50 text-sky-900 ring-sky-300",
  PENDING: "bg-slate-100 text-slate-700 ring-slate-300",
  PROCESSING: "bg-blue-50 text-blue-800 ring-blue-300",
  PAUSED: "bg-amber-50 text-amber-900 ring-amber-400",
  COMPLETED: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  SENT: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  FAILED: "bg-red-50 text-red-800 ring-red-300",
  CANCELLED: "bg-slate-600 text-white ring-slate-600",
  SUPPRESSED: "bg-orange-50 text-orange-900 ring-orange-300",
};

const LABELS: Record<CampaignStatus | RecipientStatus, string> = {
  DRAFT: "Draft",
  SCHEDULED: "Scheduled",
  PENDING: "Pending",
  PROCESSING: "Processing",
  PAUSED: "Paused",
  COMPLETED: "Completed",
  SENT: "Sent",
  FAILED: "Failed",
  CANCELLED: "Cancelled",
  SUPPRESSED: "Suppressed",
};

export function statusLabel(status: CampaignStatus | RecipientStatus): string {
  return LABELS[status];
}

/**
 * A coloured pill: draft violet, pending gray, processing blue, paused amber, completed / sent
 * green, failed red, cancelled dark gray, suppressed orange.
 */
export function StatusBadge({ status }: { status: CampaignStatus | RecipientStatus }) {
  return (
    <span
      className={`inline-flex shrink-0 items-center gap-1.5 rounded-full px-2.5 py-0.5 text-xs font-semibold ring-1 ring-inset ${STYLES[status]}`}
      data-status={status}
    >
      {status === "PROCESSING" && (
        <span aria-hidden="true" className="size-1.5 animate-pulse rounded-full bg-blue-600" />
      )}
      {LABELS[status]}
    </span>
  );
}
