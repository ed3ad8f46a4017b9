import type { Me } from "./api/types";

/** What an API key may be allowed to do (`scopes` of `GET /api/me`). */
export type Scope = "campaigns:read" | "campaigns:create" | "campaigns:send" | "keys:manage";

/**
 * Whether the signed-in key has `scope`; false while it is not known yet. The dashboard only
 * hides what a key may not do: the API refuses it anyway (403 `forbidden`).
 */
export function can(me: Me | undefined, scope: Scope): boolean {
  return me?.scopes.includes(scope) ?? false;
}
