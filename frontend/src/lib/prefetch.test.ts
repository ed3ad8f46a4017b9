import { afterEach, describe, expect, it, vi } from "vitest";

import type { CampaignPage } from "./api/types";
import { prefetch } from "./prefetch";
import { activityQuery, campaignPageQuery, campaignQuery, queries } from "./queries";

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

  it("makes the reads that need the first answers after them, with those answers", async () => {
    const fetch = vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname;
      if (path === "/api/emails/c1") return Response.json({ id: "c1", status: "COMPLETED" });
      if (path === "/api/emails/c1/activity") return Response.json(PAGE);
      return Response.json({ error: { code: "not_found", message: "no" } }, { status: 404 });
    });
    vi.stubGlobal("fetch", fetch);
    const seen: unknown[][] = [];
    const state = await prefetch((q) => [campaignQuery(q, "c1"), campaignQuery(q, "gone")], {
      token: "pal_k",
      then: (q, answers) => {
        seen.push(answers);
        return [activityQuery(q, "c1", 1, "COMPLETED")];
      },
    });
    // A read that failed is undefined.
    expect(seen).toEqual([[{ id: "c1", status: "COMPLETED" }, undefined]]);
    expect(state.queries.map((query) => query.queryKey)).toContainEqual(
      activityQuery(queries(), "c1", 1, "COMPLETED").queryKey,
    );
  });
});
