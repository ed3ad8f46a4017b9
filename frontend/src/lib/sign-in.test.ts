// @vitest-environment node
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { afterEach, describe, expect, it, vi } from "vitest";

import { checkKey, checkMessage } from "./sign-in";

const KEY = "pal_" + "k".repeat(43);
const ME = {
  id: "0190c7c4-0000-7000-8000-00000000000a",
  name: "ops",
  prefix: "pal_kkkk",
  scopes: ["campaigns:read"],
  createdAt: "2026-03-01T09:30:00Z",
  revokedAt: null,
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("checkKey", () => {
  it("asks GET /api/me at PALOMA_API_URL with the key as a Bearer token", async () => {
    vi.stubEnv("PALOMA_API_URL", "http://api.internal:8080");
    const fetch = vi.fn<(request: Request) => Promise<Response>>(async () => json(200, ME));
    expect(await checkKey(KEY, fetch)).toEqual({ ok: true, me: ME });
    const request = fetch.mock.calls[0]![0];
    expect(request.url).toBe("http://api.internal:8080/api/me");
    expect(request.headers.get("authorization")).toBe(`Bearer ${KEY}`);
  });

  it("says a key the API refuses is not valid", async () => {
    const check = await checkKey(
      KEY,
      async () => json(401, { error: { code: "unauthorized", message: "revoked" } }),
    );
    expect(check).toEqual({ ok: false, reason: "invalid" });
    expect(checkMessage(check as Exclude<typeof check, { ok: true }>)).toBe(
      "This key is not valid or was revoked.",
    );
  });

  it("refuses an empty or impossible key without asking the API", async () => {
    const fetch = vi.fn(async () => json(200, ME));
    expect(await checkKey("", fetch)).toEqual({ ok: false, reason: "empty" });
    expect(await checkKey("pal_ with spaces", fetch)).toEqual({ ok: false, reason: "invalid" });
    expect(fetch).not.toHaveBeenCalled();
  });

  it("tells an unreachable API from a refused key", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const down = await checkKey(KEY, async () => Promise.reject(new TypeError("fetch failed")));
    expect(down).toEqual({ ok: false, reason: "unreachable" });
    expect(checkMessage(down as Exclude<typeof down, { ok: true }>)).toMatch(
      /^The Paloma API cannot be reached/,
    );
    // An API that takes the request and never answers.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    vi.stubEnv("PALOMA_API_URL", `http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
    try {
      expect(await checkKey(KEY, undefined, 50)).toEqual({ ok: false, reason: "unreachable" });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
    expect(await checkKey(KEY, async () => json(503, {}))).toEqual({
      ok: false,
      reason: "unavailable",
    });
  });

  it("passes on how long to wait after too many failures", async () => {
    const limited = await checkKey(
      KEY,
      async () => json(429, { error: { code: "too_many_requests", message: "slow down" } }, {
        "retry-after": "42",
      }),
    );
    expect(limited).toEqual({ ok: false, reason: "rate_limited", retryAfterSeconds: 42 });
    expect(checkMessage(limited as Exclude<typeof limited, { ok: true }>)).toBe(
      "Too many failed sign-ins. Try again in 42 s.",
    );
  });
});
