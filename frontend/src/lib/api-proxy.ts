/**
 * Same-origin proxy: the browser calls `/api/...` on the dashboard, and this forwards the
 * request to the Paloma API at `PALOMA_API_URL`, read at run time so one build works anywhere.
 *
 * The API key comes from the session cookie (see ./session.ts) and goes to the API as
 * `Authorization: Bearer <key>`. An `Authorization` header sent by the browser is never passed on:
 * only the cookie, which the page's scripts cannot read or set, speaks for the user.
 */
import {
  clearedSessionCookieHeader,
  isHttps,
  sessionTokenFromCookieHeader,
} from "./session";

const DEFAULT_API_URL = "http://127.0.0.1:8080";

/**
 * Request headers passed on to the API (not `authorization` nor `cookie`: the key is taken from
 * the session cookie only).
 */
const FORWARDED_REQUEST_HEADERS = [
  "accept",
  "accept-language",
  "content-type",
  "idempotency-key",
  "if-none-match",
  "x-request-id",
];
/** Response headers passed back to the browser. */
const FORWARDED_RESPONSE_HEADERS = [
  "content-type",
  "idempotent-replayed",
  "location",
  "retry-after",
  "etag",
  "x-request-id",
];

export function apiBaseUrl(): string {
  const configured = process.env.PALOMA_API_URL?.trim();
  return (configured || DEFAULT_API_URL).replace(/\/+$/, "");
}

/** The API's error shape, for when it cannot be reached at all. */
export function unreachable(): Response {
  return Response.json(
    {
      error: {
        code: "api_unreachable",
        message: "The Paloma API cannot be reached. Try again in a moment.",
      },
    },
    { status: 502, headers: { "cache-control": "no-store" } },
  );
}

/**
 * The API's `unauthorized` answer, given here when the browser has no session: the API is not
 * asked, so a page left open after signing out does not count as failed sign-ins against the
 * dashboard's address.
 */
export function signedOut(): Response {
  return Response.json(
    { error: { code: "unauthorized", message: "Sign in with an API key first." } },
    { status: 401, headers: { "cache-control": "no-store" } },
  );
}

/**
 * Forwards one request to the API with the session's key and streams its answer back; 401 when
 * there is no session, 502 when the API does not answer. When the API answers 401 (the key was
 * revoked, or is unknown), the session cookie is removed with that answer.
 */
export async function proxy(request: Request): Promise<Response> {
  const { pathname, search } = new URL(request.url);
  const target = `${apiBaseUrl()}${pathname}${search}`;

  const token = sessionTokenFromCookieHeader(request.headers.get("cookie"));
  if (token === null) return signedOut();

  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  headers.set("authorization", `Bearer ${token}`);

  const hasBody = request.method !== "GET" && request.method !== "HEAD" && request.body !== null;
  const init: RequestInit & { duplex?: "half" } = {
    method: request.method,
    headers,
    redirect: "manual",
    cache: "no-store",
    // Not tied to the browser's request: a call the browser gives up on still completes, as
    // cancelling one mid-query has been seen to break a connection of the API's MySQL pool.
  };
  if (hasBody) {
    // Stream the body through rather than buffering it.
    init.body = request.body;
    init.duplex = "half";
  }

  let upstream: Response;
  try {
    upstream = await fetch(target, init);
  } catch (error) {
    // The cause (connection refused, DNS, ...) is for the server log, not for the browser.
    console.error(`proxy: ${request.method} ${pathname} failed:`, error);
    return unreachable();
  }

  const responseHeaders = new Headers({ "cache-control": "no-store" });
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) responseHeaders.set(name, value);
  }
  if (upstream.status === 401) {
    responseHeaders.append(
      "set-cookie",
      clearedSessionCookieHeader(isHttps(request.headers, request.url)),
    );
  }
  const noBody = request.method === "HEAD" || [204, 205, 304].includes(upstream.status);
  return new Response(noBody ? null : upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: responseHeaders,
  });
}
