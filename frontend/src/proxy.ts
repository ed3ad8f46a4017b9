import { NextResponse, type NextRequest } from "next/server";

import { contentSecurityPolicy, newNonce } from "@/lib/security-headers";
import { isHttps, sessionTokenFromCookieHeader } from "@/lib/session";

/**
 * What anyone may open without signing in. The /api proxy is not gated here: without a session
 * it answers 401 in the API's shape itself (src/lib/api-proxy.ts).
 */
const PUBLIC_PATHS: ReadonlySet<string> = new Set([
  "/sign-in",
  "/sign-out",
  "/icon.svg",
  "/favicon.ico",
  "/robots.txt",
]);

/** Whether `pathname` is for signed-in users only. */
export function needsSession(pathname: string): boolean {
  if (pathname === "/api" || pathname.startsWith("/api/")) return false;
  return !PUBLIC_PATHS.has(pathname);
}

/**
 * Runs before every request but static assets: sends a browser without a session to /sign-in
 * (and back to the page afterwards), and gives every response its Content-Security-Policy with a
 * fresh nonce, which Next.js reads from the request to mark its own scripts.
 */
export function proxy(request: NextRequest): NextResponse {
  const nonce = newNonce();
  const policy = contentSecurityPolicy({
    nonce,
    dev: process.env.NODE_ENV === "development",
    https: isHttps(request.headers, request.url),
  });

  const { pathname, search } = request.nextUrl;
  let response: NextResponse;
  if (needsSession(pathname) && sessionTokenFromCookieHeader(request.headers.get("cookie")) === null) {
    const target = request.nextUrl.clone();
    target.pathname = "/sign-in";
    target.search = "";
    const here = `${pathname}${search}`;
    if (here !== "/") target.searchParams.set("next", here);
    response = NextResponse.redirect(target);
  } else {
    const headers = new Headers(request.headers);
    headers.set("content-security-policy", policy);
    headers.set("x-nonce", nonce);
    response = NextResponse.next({ request: { headers } });
  }
  response.headers.set("content-security-policy", policy);
  return response;
}

export const config = {
  // Everything but the build's static files (next.config.ts gives those their headers).
  matcher: ["/((?!_next/static|_next/image).*)"],
};
