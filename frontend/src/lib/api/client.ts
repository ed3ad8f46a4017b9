import createClient, { type Middleware } from "openapi-fetch";

import type { paths } from "./schema";
import { apiStatus, type ApiStatusStore } from "./status";

export type PalomaClient = ReturnType<typeof createClient<paths>>;

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

/** Reports every answer (or its absence) to the status store behind the "API unreachable" banner. */
export function statusMiddleware(store: ApiStatusStore): Middleware {
  return {
    onResponse({ response }) {
      store.reportResponse(response.status);
    },
    onError({ error }) {
      if (!isAbort(error)) store.reportNetworkError();
    },
  };
}

/**
 * Calls `onUnauthorized` when an answer is 401: the session's key is missing, unknown or was
 * revoked, and no call will succeed until the user signs in again.
 */
export function unauthorizedMiddleware(onUnauthorized: () => void): Middleware {
  return {
    onResponse({ response }) {
      if (response.status === 401) onUnauthorized();
    },
  };
}

export interface ClientOptions {
  baseUrl: string;
  fetch?: (input: Request) => Promise<Response>;
  status?: ApiStatusStore;
  /**
   * The API key, sent as `Authorization: Bearer`: for calls made straight to the API from the
   * dashboard's server. The browser's calls carry none (the /api proxy adds the session's).
   */
  token?: string;
  /** Told of every 401 answer (see `unauthorizedMiddleware`). */
  onUnauthorized?: () => void;
}

/** A typed client for the API described by ../openapi.json. */
export function createPalomaClient(options: ClientOptions): PalomaClient {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    fetch: options.fetch,
    headers,
    cache: "no-store",
  });
  client.use(statusMiddleware(options.status ?? apiStatus));
  if (options.onUnauthorized) client.use(unauthorizedMiddleware(options.onUnauthorized));
  return client;
}

/** The sign-in page, saying that the session ended, and coming back to `here` afterwards. */
export function signInUrl(here: string): string {
  const params = new URLSearchParams({ expired: "1" });
  if (here !== "/") params.set("next", here);
  return `/sign-in?${params.toString()}`;
}

let leaving = false;

/**
 * Sends the browser to the sign-in page, once (many reads may fail together). A full page load,
 * so nothing read with the old key stays in memory.
 */
export function goToSignIn(): void {
  if (typeof window === "undefined" || leaving) return;
  leaving = true;
  window.location.assign(signInUrl(`${window.location.pathname}${window.location.search}`));
}

let browserClient: PalomaClient | undefined;

/**
 * The app's client. The browser calls its own origin (`/api/...`), which the Next.js route
 * handler proxies to the Paloma API with the session's key. A 401 sends the user to sign in.
 */
export function api(): PalomaClient {
  if (!browserClient) {
    const origin = typeof window === "undefined" ? "http://localhost" : window.location.origin;
    browserClient = createPalomaClient({ baseUrl: origin, onUnauthorized: goToSignIn });
  }
  return browserClient;
}
