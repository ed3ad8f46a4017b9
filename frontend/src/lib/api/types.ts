import type { components } from "./schema";

type Schemas = components["schemas"];

export type Campaign = Schemas["CampaignResponse"];
export type CampaignPage = Schemas["CampaignPage"];
export type CampaignStatus = Schemas["CampaignStatusDto"];
export type CreateCampaignRequest = Schemas["CreateCampaignRequest"];
export type CreatedCampaign = Schemas["CreateCampaignResponse"];
export type EditCampaignRequest = Schemas["EditCampaignRequest"];
export type DuplicateRequest = Schemas["DuplicateRequest"];
export type ErrorBody = Schemas["ErrorBody"];
/** Every code the API answers with (`error.code`). */
export type ErrorCode = Schemas["ErrorCode"];
export type ErrorDetails = Schemas["ErrorDetails"];
export type FieldError = Schemas["FieldError"];
export type ValidationDetails = Schemas["ValidationDetails"];
export type RecipientLimitDetails = Schemas["RecipientLimitDetails"];
export type IdempotencyConflictDetails = Schemas["IdempotencyConflictDetails"];
export type RecipientEntry = Schemas["RecipientEntry"];
export type PreviewRequest = Schemas["PreviewRequest"];
export type PreviewResponse = Schemas["PreviewResponse"];
export type RecipientPage = Schemas["RecipientPage"];
export type RecipientRow = Schemas["RecipientResponse"];
export type RecipientStatus = Schemas["RecipientStatusDto"];
export type ForbiddenDetails = Schemas["ForbiddenDetails"];
/** The API key a request is made with (`GET /api/me`). */
export type Me = Schemas["KeyResponse"];
export type ApiKey = Schemas["KeyResponse"];
export type Activity = Schemas["ActivityResponse"];
export type ActivityAction = Schemas["ActivityAction"];
export type ActivityPage = Schemas["ActivityPage"];
export type Suppression = Schemas["SuppressionResponse"];
export type SuppressionPage = Schemas["SuppressionPage"];
export type SuppressionReason = Schemas["SuppressionReasonDto"];

/** Campaign states in which the counters still move. */
export const ACTIVE_STATUSES: readonly CampaignStatus[] = ["PENDING", "PROCESSING"];

export function isActive(status: CampaignStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

export type Timeline = Schemas["TimelineResponse"];
export type TimelinePoint = Schemas["TimelinePointResponse"];

/** The campaign queue's jobs by state and the workers alive (`GET /api/queue`). */
export type QueueOverview = Schemas["QueueResponse"];
export type JobCounts = Schemas["JobCountsResponse"];
export type Worker = Schemas["WorkerResponse"];
