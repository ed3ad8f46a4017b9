import { createPalomaClient } from "./api/client";
import { ApiStatusStore } from "./api/status";
import type { Me } from "./api/types";
import { apiBaseUrl } from "./api-proxy";
import { isPlausibleKey } from "./session";

/** How long signing in waits for the API's answer. */
export const CHECK_TIMEOUT_MS = 10_000;

export type KeyCheck =
  | { ok: true; me: Me }
  | { ok: false; reason: "empty" | "invalid" | "unreachable" | "unavailable" | "unexpected" }
  | { ok: false; reason: "rate_limited"; retryAfterSeconds: number | null };

/**
 * Asks the API whether `token` is a valid key (`GET /api/me` with it as a Bearer token). A string
 * that cannot be a key is refused without asking, so that typos do not use up the API's budget
 * of failed authentications.
 */
export async function checkKey(
  token: string,
  fetch: (request: Request) => Promise<Response> = (request) => globalThis.fetch(request),
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<KeyCheck> {
  if (token === "") return { ok: false, reason: "empty" };
  if (!isPlausibleKey(token)) return { ok: false, reason: "invalid" };
  const client = createPalomaClient({
    baseUrl: apiBaseUrl(),
    fetch,
    token,
    status: new ApiStatusStore(),
  });
  // A deadline of its own, cleared as soon as the answer (or the failure) arrives.
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new Error(`no answer within ${timeoutMs} ms`)),
    timeoutMs,
  );
  const result = await client
    .GET("/api/me", { signal: deadline.signal })
    .catch((error: unknown) => {
      // The cause (connection refused, timeout, ...) is for the server's log.
      console.error("sign-in: GET /api/me failed:", error);
      return null;
    })
    .finally(() => clearTimeout(timer));
  if (result === null) return { ok: false, reason: "unreachable" };
  const { data, response } = result;
  if (response.ok && data) return { ok: true, me: data };
  switch (response.status) {
    case 401:
      return { ok: false, reason: "invalid" };
    case 429: {
      const seconds = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
      return {
        ok: false,
        reason: "rate_limited",
        retryAfterSeconds: Number.isFinite(seconds) && seconds >= 0 ? seconds : null,
      };
    }
    case 502:
    case 504:
      return { ok: false, reason: "unreachable" };
    case 503:
      return { ok: false, reason: "unavailable" };
    default:
      console.error(`sign-in: GET /api/me answered ${response.status}`);
      return { ok: false, reason: "unexpected" };
  }
}

/** What the sign-in form says when a check fails. */
export function checkMessage(check: Exclude<KeyCheck, { ok: true }>): string {
  switch (check.reason) {
    case "empty":
      return "Enter an API key.";
    case "invalid":
      return "This key is not valid or was revoked.";
    case "unreachable":
      return "The Paloma API cannot be reached, so the key cannot be checked. Try again in a moment.";
    case "unavailable":
      return "The Paloma API is unavailable right now (a service it depends on is down). Try again in a moment.";
    case "rate_limited":
      return check.retryAfterSeconds === null
        ? "Too many failed sign-ins. Wait a minute and try again."
        : `Too many failed sign-ins. Try again in ${check.retryAfterSeconds} s.`;
    default:
      return "The key could not be checked: the API gave an unexpected answer. Try again later.";
  }
}
