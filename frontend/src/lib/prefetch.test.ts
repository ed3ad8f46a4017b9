import { afterEach, describe, expect, it, vi } from "vitest";

import type { CampaignPage } from "./api/types";
import { prefetch } from "./prefetch";
import { campaignPageQuery, campaignQuery, queries } from "./queries";

const PAGE: CampaignPage = {
  items: [],
  page: 1,
  perPage: 20,
  total: 0,
  totalPages: 0,
  active: 0,
};

afterEach(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

describe("prefetch", () => {
  it("reads from PALOMA_API_URL and keys the answer as the browser's query does", async () => {
    vi.stubEnv("PALOMA_API_URL", "http://api.internal:8080/");
    const fetch = vi.fn<(request: Request) => Promise<Response>>(async () => Response.json(PAGE));
    vi.stubGlobal("fetch", fetch);

    const state = await prefetch((q) => [campaignPageQuery(q, 2)], { token: "pal_k" });

    expect(new URL(fetch.mock.calls[0]![0].url).toString()).toBe(
      "http://api.internal:8080/api/emails?page=2&perPage=20",
    );
    expect(fetch.mock.calls[0]![0].headers.get("authorization")).toBe("Bearer pal_k");
    expect(state.queries).toHaveLength(1);
    expect(state.queries[0]!.queryKey).toEqual(campaignPageQuery(queries(), 2).queryKey);
    expect(state.queries[0]!.state.data).toEqual(PAGE);
  });

  it("leaves out what failed, so the browser reads it itself", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async (request: Request) =>
        new URL(request.url).pathname === "/api/emails"
          ? Promise.reject(new TypeError("fetch failed"))
          : Response.json(
              { error: { code: "not_found", message: "campaign not found" } },
              { status: 404 },
            ),
      ),
    );
    const state = await prefetch((q) => [campaignPageQuery(q, 1), campaignQuery(q, "x")], {
      token: "pal_k",
    });
    expect(state.queries).toEqual([]);
  });

  it("reads nothing without a session: the browser is sent to sign in", async () => {
    const fetch = vi.fn(async () => Response.json(PAGE));
    vi.stubGlobal("fetch", fetch);
    const state = await prefetch((q) => [campaignPageQuery(q, 1)], { token: undefined });
    expect(state.queries).toEqual([]);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("does not wait for a slow API past its deadline", async () => {
    vi.stubGlobal("fetch", vi.fn(() => new Promise<Response>(() => {})));
    const started = Date.now();
    const state = await prefetch((q) => [campaignPageQuery(q, 1)], {
      token: "pal_k",
      timeoutMs: 50,
    });
    expect(state.queries).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
