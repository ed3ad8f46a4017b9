/**
 * The dashboard's session: the API key the user signed in with, kept in one cookie that the
 * browser sends back to the dashboard and that its JavaScript cannot read (httpOnly). Only the
 * dashboard's server reads it, to call the API with `Authorization: Bearer <key>`.
 */

/** The cookie that holds the API key. */
export const SESSION_COOKIE = "paloma_key";

/** How long a sign-in lasts: a working day and a half; the key itself does not expire. */
export const SESSION_MAX_AGE_S = 12 * 60 * 60;

/** The longest key the sign-in form accepts (the API's are 47 characters). */
export const MAX_KEY_LENGTH = 256;

export interface SessionCookieOptions {
  httpOnly: true;
  sameSite: "strict";
  secure: boolean;
  path: "/";
  maxAge: number;
}

/**
 * The attributes of the session cookie: never readable by scripts, never sent with a request
 * another site starts, and only over HTTPS when the dashboard is served over HTTPS.
 */
export function sessionCookieOptions(secure: boolean): SessionCookieOptions {
  return { httpOnly: true, sameSite: "strict", secure, path: "/", maxAge: SESSION_MAX_AGE_S };
}

/**
 * Whether the browser reached the dashboard over HTTPS: the `X-Forwarded-Proto` of a proxy in
 * front of it (its first value, as proxies append theirs), else the request URL's protocol.
 * Next.js sets `X-Forwarded-Proto` itself when no proxy did.
 */
export function isHttps(headers: Headers, url?: string): boolean {
  const forwarded = headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  if (forwarded) return forwarded === "https";
  if (!url) return false;
  try {
    return new URL(url).protocol === "https:";
  } catch {
    return false;
  }
}

/** A `Set-Cookie` value that stores `token`. */
export function sessionCookieHeader(token: string, secure: boolean): string {
  return serialize(SESSION_COOKIE, token, sessionCookieOptions(secure));
}

/** A `Set-Cookie` value that removes the session cookie. */
export function clearedSessionCookieHeader(secure: boolean): string {
  return serialize(SESSION_COOKIE, "", { ...sessionCookieOptions(secure), maxAge: 0 });
}

function serialize(name: string, value: string, options: SessionCookieOptions): string {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${options.path}`,
    `Max-Age=${options.maxAge}`,
    "HttpOnly",
    "SameSite=Strict",
  ];
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

/**
 * Whether `token` can be an API key at all: printable ASCII without spaces (so that it fits in a
 * header), and not absurdly long. The API decides whether it is a valid one.
 */
export function isPlausibleKey(token: string): boolean {
  return token.length > 0 && token.length <= MAX_KEY_LENGTH && /^[\x21-\x7e]+$/.test(token);
}

/** The session's API key from a `Cookie` header; `null` when there is none (or it is empty). */
export function sessionTokenFromCookieHeader(cookie: string | null): string | null {
  if (!cookie) return null;
  for (const part of cookie.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    let value = part.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      return null;
    }
    return isPlausibleKey(value) ? value : null;
  }
  return null;
}

/**
 * Where to go after signing in: `next` when it is a path of this site, else `/`. Anything that
 * could leave the site (`//host`, `/\host`, `https://...`) gives `/`.
 */
export function safeNextPath(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) {
    return "/";
  }
  if (/[\u0000-\u001f\u007f]/.test(next)) return "/";
  if (next === "/sign-in" || next.startsWith("/sign-in?") || next.startsWith("/sign-in/")) {
    return "/";
  }
  return next;
}
