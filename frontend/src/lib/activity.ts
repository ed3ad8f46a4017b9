import type { ActivityAction } from "./api/types";

const LABELS: Record<ActivityAction, string> = {
  "campaign.created": "Created",
  "campaign.sent": "Sent",
  "campaign.scheduled": "Scheduled",
  "campaign.retried": "Failed recipients retried",
  "campaign.paused": "Paused",
  "campaign.resumed": "Resumed",
  "campaign.cancelled": "Cancelled",
  "campaign.rescheduled": "Rescheduled",
  "campaign.edited": "Edited",
  "campaign.tested": "Test sent",
  "key.created": "Key created",
  "key.revoked": "Key revoked",
  "suppression.added": "Addresses suppressed",
  "suppression.removed": "Address unsuppressed",
};

/** An activity entry's action in words: "Created", "Sent", ...; an unknown one as it is. */
export function actionLabel(action: ActivityAction | string): string {
  return (LABELS as Record<string, string>)[action] ?? action;
}
