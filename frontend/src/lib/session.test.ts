// @vitest-environment node
import { describe, expect, it } from "vitest";

import {
  SESSION_COOKIE,
  SESSION_MAX_AGE_S,
  clearedSessionCookieHeader,
  isHttps,
  isPlausibleKey,
  safeNextPath,
  sessionCookieHeader,
  sessionCookieOptions,
  sessionTokenFromCookieHeader,
} from "./session";

const KEY = "pal_" + "Zz09".repeat(10) + "abc";

describe("the session cookie", () => {
  it("is httpOnly, SameSite=Strict, for the whole site, and Secure only over HTTPS", () => {
    expect(sessionCookieOptions(false)).toEqual({
      httpOnly: true,
      sameSite: "strict",
      secure: false,
      path: "/",
      maxAge: SESSION_MAX_AGE_S,
    });
    expect(sessionCookieOptions(true).secure).toBe(true);
  });

  it("is written and removed with the same attributes", () => {
    expect(sessionCookieHeader(KEY, true)).toBe(
      `${SESSION_COOKIE}=${KEY}; Path=/; Max-Age=${SESSION_MAX_AGE_S}; HttpOnly; SameSite=Strict; Secure`,
    );
    expect(sessionCookieHeader(KEY, false)).not.toContain("Secure");
    expect(clearedSessionCookieHeader(true)).toBe(
      `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure`,
    );
  });

  it.each([
    [{ "x-forwarded-proto": "https" }, "http://dash.test/sign-in", true],
    [{ "x-forwarded-proto": "https, http" }, "http://dash.test/sign-in", true],
    [{ "x-forwarded-proto": "HTTPS" }, undefined, true],
    [{ "x-forwarded-proto": "http" }, "https://dash.test/sign-in", false],
    [{}, "https://dash.test/sign-in", true],
    [{}, "http://dash.test/sign-in", false],
    [{}, undefined, false],
    [{}, "not a url", false],
  ])("knows HTTPS from %j and %s: %s", (headers, url, expected) => {
    expect(isHttps(new Headers(headers), url)).toBe(expected);
  });

  it("is read from the Cookie header among others", () => {
    expect(sessionTokenFromCookieHeader(`a=1; ${SESSION_COOKIE}=${KEY}; b=2`)).toBe(KEY);
    expect(sessionTokenFromCookieHeader(`${SESSION_COOKIE}=${KEY}`)).toBe(KEY);
    expect(sessionTokenFromCookieHeader(null)).toBeNull();
    expect(sessionTokenFromCookieHeader("a=1")).toBeNull();
    expect(sessionTokenFromCookieHeader(`${SESSION_COOKIE}=`)).toBeNull();
    expect(sessionTokenFromCookieHeader(`x${SESSION_COOKIE}=${KEY}`)).toBeNull();
    // A value that could not go into an Authorization header is no key.
    expect(sessionTokenFromCookieHeader(`${SESSION_COOKIE}=a%0D%0Ab`)).toBeNull();
    expect(sessionTokenFromCookieHeader(`${SESSION_COOKIE}=%E0%A4%A`)).toBeNull();
  });
});

describe("isPlausibleKey", () => {
  it("accepts printable ASCII without spaces, up to 256 characters", () => {
    expect(isPlausibleKey(KEY)).toBe(true);
    expect(isPlausibleKey("")).toBe(false);
    expect(isPlausibleKey("pal_ abc")).toBe(false);
    expect(isPlausibleKey("pal_é")).toBe(false);
    expect(isPlausibleKey("x".repeat(257))).toBe(false);
  });
});

describe("safeNextPath", () => {
  it.each([
    [undefined, "/"],
    ["", "/"],
    ["/", "/"],
    ["/campaigns/abc?status=failed", "/campaigns/abc?status=failed"],
    ["//evil.test/x", "/"],
    ["/\\evil.test", "/"],
    ["https://evil.test/", "/"],
    ["campaigns", "/"],
    ["/a\nb", "/"],
    ["/sign-in", "/"],
    ["/sign-in?next=/x", "/"],
  ])("%j -> %s", (next, expected) => {
    expect(safeNextPath(next)).toBe(expected);
  });
});
