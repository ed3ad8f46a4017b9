import {
  dehydrate,
  type DehydratedState,
  type QueryFunctionContext,
  type QueryKey,
} from "@tanstack/react-query";

import { createPalomaClient } from "./api/client";
import { ApiStatusStore } from "./api/status";
import { apiBaseUrl } from "./api-proxy";
import { apiQueries, makeQueryClient, type ApiQueries } from "./queries";

/**
 * How long a server render waits for the API. A slower answer is not awaited further: the page
 * is sent without it and the browser reads it itself (the read goes on and its answer is
 * dropped, as aborting one mid-query has been seen to break a connection of the API's pool).
 */
export const PREFETCH_TIMEOUT_MS = 2000;

/** A query's options as `campaignQuery` and the like make them. */
interface Prefetchable {
  queryKey: QueryKey;
  // A method, so that options typed for one particular key fit.
  queryFn(context: QueryFunctionContext): unknown;
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export interface PrefetchOptions {
  /** The session's API key (see ./session-server.ts); without one nothing is read. */
  token: string | undefined;
  timeoutMs?: number;
  /**
   * Reads that depend on the first ones' answers (a campaign's recipients are keyed by its
   * status): given what `reads` got (`undefined` where a read failed or was slow), made next.
   */
  then?: (queries: ApiQueries, answers: unknown[]) => Prefetchable[];
}

/**
 * Reads a page's first data straight from the API (`PALOMA_API_URL`, as the `/api` proxy uses,
 * with the session's key) while rendering it on the server, and returns the answers for
 * `<HydrationBoundary>`, so the page arrives with its figures instead of a spinner. A read that
 * fails or is slow is left out and the browser makes it as usual (with the "API unreachable"
 * banner if it fails there too, or the sign-in page if the key is refused).
 */
export async function prefetch(
  reads: (queries: ApiQueries) => Prefetchable[],
  { token, timeoutMs = PREFETCH_TIMEOUT_MS, then }: PrefetchOptions,
): Promise<DehydratedState> {
  const queryClient = makeQueryClient();
  if (token === undefined) return dehydrate(queryClient);
  // The browser's status store is not involved: the banner reflects the browser's own calls.
  const client = createPalomaClient({ baseUrl: apiBaseUrl(), status: new ApiStatusStore(), token });
  const queries = apiQueries(client);
  const readAll = (list: Prefetchable[]) =>
    Promise.all(
      list.map(({ queryKey, queryFn }) =>
        queryClient.prefetchQuery({
          queryKey,
          queryFn: (context) => withDeadline(Promise.resolve(queryFn(context)), timeoutMs),
          retry: false,
        }),
      ),
    );
  const first = reads(queries);
  await readAll(first);
  if (then) {
    const answers = first.map(({ queryKey }) => queryClient.getQueryData(queryKey));
    await readAll(then(queries, answers));
  }
  // Only answers are passed on (not failures), so the browser retries what failed here.
  return dehydrate(queryClient);
}
