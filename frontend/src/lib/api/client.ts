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

export interface ClientOptions {
  baseUrl: string;
  fetch?: (input: Request) => Promise<Response>;
  status?: ApiStatusStore;
}

/** A typed client for the API described by ../openapi.json. */
export function createPalomaClient(options: ClientOptions): PalomaClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    fetch: options.fetch,
    headers: { Accept: "application/json" },
    cache: "no-store",
  });
  client.use(statusMiddleware(options.status ?? apiStatus));
  return client;
}

let browserClient: PalomaClient | undefined;

/**
 * The app's client. The browser calls its own origin (`/api/...`), which the Next.js route
 * handler proxies to the Paloma API.
 */
export function api(): PalomaClient {
  if (!browserClient) {
    const origin = typeof window === "undefined" ? "http://localhost" : window.location.origin;
    browserClient = createPalomaClient({ baseUrl: origin });
  }
  return browserClient;
}
