import {
  QueryClient,
  useQuery,
  type QueryKey,
  type UseQueryOptions,
  type UseQueryResult,
} from "@tanstack/react-query";
import createQueryHooks, { type OpenapiQueryClient } from "openapi-react-query";

import { api, type PalomaClient } from "./api/client";
import { ApiError, isAbortError, toApiError } from "./api/errors";
import type { paths } from "./api/schema";
import { isActive, type CampaignPage, type CampaignStatus, type Me } from "./api/types";
import type { CampaignListFilter, RecipientFilter } from "./params";
import { filterStatus } from "./params";

/** How often live data is refreshed. */
export const POLL_INTERVAL_MS = 1500;
/**
 * How often a paused campaign is read again: only the messages in flight when it was paused
 * still settle, and someone else may resume or cancel it.
 */
export const PAUSED_POLL_INTERVAL_MS = 5000;
/**
 * How often a scheduled campaign is read again: someone else may send it now, reschedule or
 * cancel it. Once its time is near, it is read just after it instead (see `campaignPollInterval`).
 */
export const SCHEDULED_POLL_INTERVAL_MS = 5000;
/**
 * How long after a campaign's scheduled time it is read: the worker starts it within about half
 * a second of it.
 */
export const SCHEDULED_START_GRACE_MS = 800;
/** How often a list that shows a scheduled campaign is read again, at most. */
export const LIST_SCHEDULED_POLL_INTERVAL_MS = 30_000;
/** How often the chart of a sending campaign is refreshed. */
export const TIMELINE_INTERVAL_MS = 3000;
/** How long after a failure that may pass by itself a call is tried again. */
export const RETRY_INTERVAL_MS = 2000;
/**
 * How long an answer counts as fresh: a page rendered on the server is not read again the moment
 * it hydrates; older answers are read again on mount and when the window regains focus.
 */
export const FRESH_MS = 2000;

export const CAMPAIGNS_PER_PAGE = 20;
export const RECIPIENTS_PER_PAGE = 50;
export const ACTIVITY_PER_PAGE = 10;

/** Retries failures that may pass by themselves: no answer, 5xx, 408 and 429. */
export function isTransient(error: ApiError): boolean {
  return (
    error.status === 0 || error.status >= 500 || error.status === 408 || error.status === 429
  );
}

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, "network_error", "The server cannot be reached.");
}

/**
 * The app's query defaults: a failure that may pass (see `isTransient`) is tried again every
 * `RETRY_INTERVAL_MS` for as long as it lasts, so a page recovers by itself; others are shown.
 */
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: FRESH_MS,
        refetchOnWindowFocus: true,
        retry: (_count, error) => isTransient(asApiError(error)),
        retryDelay: RETRY_INTERVAL_MS,
        // Calls are made even when the browser says it is offline, so that the failure reaches
        // the "API unreachable" banner instead of the page waiting silently.
        networkMode: "always",
      },
    },
  });
}

type LooseGet = (
  path: string,
  init?: { signal?: AbortSignal } & Record<string, unknown>,
) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

/**
 * The client as openapi-react-query should see it: a failed read throws an `ApiError` with the
 * answer's status (openapi-react-query throws the bare error body), no answer throws a
 * `network_error`. A read is not aborted when its page goes away: it finishes and its answer is
 * dropped, as cancelling a request mid-query has been seen to break a connection of the API's
 * MySQL pool.
 */
export function withApiErrors(client: PalomaClient): PalomaClient {
  const get = client.GET as unknown as LooseGet;
  const GET: LooseGet = async (path, init) => {
    const rest = { ...init };
    delete rest.signal;
    let result: Awaited<ReturnType<LooseGet>>;
    try {
      result = await get(path, rest);
    } catch (error) {
      throw isAbortError(error) ? error : asApiError(error);
    }
    if (!result.response.ok || result.error !== undefined) {
      throw toApiError(result.response.status, result.error);
    }
    return result;
  };
  return { ...client, GET: GET as unknown as PalomaClient["GET"] };
}

export type ApiQueries = OpenapiQueryClient<paths>;

/** Typed query options and hooks over `client` (keys are `[method, path, init]`). */
export function apiQueries(client: PalomaClient): ApiQueries {
  return createQueryHooks(withApiErrors(client));
}

let browserQueries: ApiQueries | undefined;

/** The queries of the app's client (`api()`). */
export function queries(): ApiQueries {
  browserQueries ??= apiQueries(api());
  return browserQueries;
}

/** `useQuery` for the options below: their errors are `ApiError`s (see `withApiErrors`). */
export function useApiQuery<TData, TError, TKey extends QueryKey>(
  options: UseQueryOptions<TData, TError, TData, TKey>,
): UseQueryResult<TData, ApiError> {
  return useQuery(options) as unknown as UseQueryResult<TData, ApiError>;
}

/** Whether a query's last read failed for good (e.g. 404): polling stops then. */
function failed(query: { state: { status: string } }): boolean {
  return query.state.status === "error";
}

/**
 * Whether a list's counters may still move: a campaign on the page is sending, or one is
 * anywhere (`active` counts every `PENDING` or `PROCESSING` campaign, whatever the page and
 * filter), so that one finishing or starting off this page shows up too.
 */
export function hasActive(page: CampaignPage): boolean {
  return page.active > 0 || page.items.some((c) => isActive(c.status));
}

/** How long the key's name and scopes count as fresh: they change only when it is replaced. */
export const ME_FRESH_MS = 60_000;

/** The signed-in key: its name and scopes (`GET /api/me`). */
export function meQuery(q: ApiQueries) {
  return q.queryOptions("get", "/api/me", {}, { staleTime: ME_FRESH_MS });
}

/** The signed-in key; `undefined` until it is known. */
export function useMe(): Me | undefined {
  return useApiQuery(meQuery(queries())).data;
}

/**
 * How often the System page reads the queue and the workers: as often as the workers beat, so
 * that each read sees a fresh rate.
 */
export const QUEUE_POLL_INTERVAL_MS = 2000;
/** How often the header's count of live workers is read again (on any page). */
export const WORKER_COUNT_POLL_INTERVAL_MS = 10_000;

/**
 * The queue's jobs by state and the workers alive (`GET /api/queue`), read again every
 * `interval` ms (while the tab is visible) until a read fails for good (e.g. 403).
 */
export function queueQuery(q: ApiQueries, interval = QUEUE_POLL_INTERVAL_MS) {
  return q.queryOptions(
    "get",
    "/api/queue",
    {},
    { refetchInterval: (query) => (failed(query) ? false : interval) },
  );
}

/**
 * How long until a campaign scheduled at `scheduledAt` should be read to see it start: just
 * after its time (`SCHEDULED_START_GRACE_MS`), or every 1.5 s once that has passed and it has
 * not started yet; at most `cap`.
 */
function untilStart(scheduledAt: string | null | undefined, now: number, cap: number): number {
  const due = scheduledAt ? Date.parse(scheduledAt) - now : NaN;
  if (Number.isNaN(due)) return cap;
  if (due <= 0) return POLL_INTERVAL_MS;
  return Math.min(cap, due + SCHEDULED_START_GRACE_MS);
}

/**
 * How often a page of campaigns is read again: every 1.5 s while any campaign is sending (on
 * this page or another), just after the first scheduled one on the page is due (at most every
 * 30 s), and never otherwise.
 */
export function campaignPagePollInterval(page: CampaignPage, now = Date.now()): number | false {
  if (hasActive(page)) return POLL_INTERVAL_MS;
  const waits = page.items
    .filter((c) => c.status === "SCHEDULED")
    .map((c) => untilStart(c.scheduledAt, now, LIST_SCHEDULED_POLL_INTERVAL_MS));
  return waits.length > 0 ? Math.min(...waits) : false;
}

/**
 * One page of campaigns (those `filter` admits), newest first; read again while any campaign is
 * sending or one on the page is about to start (see `campaignPagePollInterval`).
 */
export const SUPPRESSIONS_PER_PAGE = 50;

/**
 * One page of the suppression list, newest first. Here rather than next to the list: the page
 * reads it on the server too, and a server component may not call a "use client" module's
 * functions (the Suppressions page failed with a 500 when it did).
 */
export function suppressionPageQuery(q: ApiQueries, page: number, search: string | undefined) {
  return q.queryOptions("get", "/api/suppressions", {
    params: { query: { page, perPage: SUPPRESSIONS_PER_PAGE, ...(search ? { search } : {}) } },
  });
}

export function campaignPageQuery(q: ApiQueries, page: number, filter: CampaignListFilter = {}) {
  return q.queryOptions(
    "get",
    "/api/emails",
    { params: { query: { page, perPage: CAMPAIGNS_PER_PAGE, ...filter } } },
    {
      refetchInterval: (query) =>
        !failed(query) && query.state.data ? campaignPagePollInterval(query.state.data) : false,
    },
  );
}

/**
 * How often a campaign in `status` is read again; false when it is not. A scheduled one
 * (`scheduledAt`) every 5 s, and just after its time, so that its page turns into the sending
 * view by itself.
 */
export function campaignPollInterval(
  status: CampaignStatus,
  scheduledAt?: string | null,
  now = Date.now(),
): number | false {
  if (isActive(status)) return POLL_INTERVAL_MS;
  if (status === "PAUSED") return PAUSED_POLL_INTERVAL_MS;
  if (status === "SCHEDULED") return untilStart(scheduledAt, now, SCHEDULED_POLL_INTERVAL_MS);
  return false;
}

/**
 * One campaign's counters; read again every 1.5 s while it is pending or processing, every 5 s
 * while it is paused or scheduled (and just after its scheduled time).
 */
export function campaignQuery(q: ApiQueries, id: string) {
  return q.queryOptions(
    "get",
    "/api/emails/{id}",
    { params: { path: { id } } },
    {
      refetchInterval: (query) =>
        !failed(query) && query.state.data
          ? campaignPollInterval(query.state.data.status, query.state.data.scheduledAt)
          : false,
    },
  );
}

/** One campaign with its HTML body, read once. */
export function campaignBodyQuery(q: ApiQueries, id: string) {
  return q.queryOptions("get", "/api/emails/{id}", {
    params: { path: { id }, query: { includeBody: true } },
  });
}

/**
 * Where a campaign is, as far as its recipients and timeline go: a draft (nothing sent yet: a
 * draft, or scheduled), live (sending), paused (stopped until resumed), or final (stopped for
 * good: completed, failed or cancelled).
 */
export type Phase = "draft" | "live" | "paused" | "final";

export function phaseOf(status: CampaignStatus): Phase {
  if (status === "DRAFT" || status === "SCHEDULED") return "draft";
  if (status === "PAUSED") return "paused";
  return isActive(status) ? "live" : "final";
}

/**
 * A key of its own for each phase: the first read after the campaign stops (or pauses) picks up
 * its outcomes so far, and what was read of a draft (nothing) is not taken for them.
 */
function withPhase<K extends readonly unknown[]>(key: K, phase: Phase): K {
  return [...key, phase] as unknown as K;
}

/** The campaign's timeline; read again every 3 s while it sends. */
export function timelineQuery(q: ApiQueries, id: string, phase: Phase) {
  const options = q.queryOptions(
    "get",
    "/api/emails/{id}/timeline",
    { params: { path: { id } } },
    {
      refetchInterval: (query) =>
        phase === "live" && !failed(query) ? TIMELINE_INTERVAL_MS : false,
    },
  );
  return { ...options, queryKey: withPhase(options.queryKey, phase) };
}

/** A page of the campaign's recipients; read again every 1.5 s while it sends. */
export function recipientsQuery(
  q: ApiQueries,
  id: string,
  filter: RecipientFilter,
  page: number,
  phase: Phase,
) {
  const options = q.queryOptions(
    "get",
    "/api/emails/{id}/recipients",
    {
      params: {
        path: { id },
        query: { status: filterStatus(filter), page, perPage: RECIPIENTS_PER_PAGE },
      },
    },
    {
      refetchInterval: (query) => (phase === "live" && !failed(query) ? POLL_INTERVAL_MS : false),
    },
  );
  return { ...options, queryKey: withPhase(options.queryKey, phase) };
}

/**
 * A page of the campaign's activity (who created it, who sent it). Read again whenever the
 * campaign's status changes, since that is when an entry is added: the status is part of the key.
 */
export function activityQuery(q: ApiQueries, id: string, page: number, status: CampaignStatus) {
  const options = q.queryOptions("get", "/api/emails/{id}/activity", {
    params: { path: { id }, query: { page, perPage: ACTIVITY_PER_PAGE } },
  });
  return { ...options, queryKey: [...options.queryKey, status] as unknown as typeof options.queryKey };
}
