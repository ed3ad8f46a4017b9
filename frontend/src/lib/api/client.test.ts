import { describe, expect, it, vi } from "vitest";

import { api, createPalomaClient, signInUrl } from "./client";
import { ApiStatusStore } from "./status";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

describe("the API client", () => {
  it("tells of every 401, whichever call met it, and of nothing else", async () => {
    const onUnauthorized = vi.fn();
    const fetch = vi.fn(async (request: Request) =>
      new URL(request.url).pathname === "/api/me"
        ? json(401, { error: { code: "unauthorized", message: "revoked" } })
        : json(403, { error: { code: "forbidden", message: "no", details: { requiredScope: "campaigns:send" } } }),
    );
    const client = createPalomaClient({
      baseUrl: "http://dash.test",
      fetch,
      status: new ApiStatusStore(),
      onUnauthorized,
    });

    await client.POST("/api/emails/{id}/send", { params: { path: { id: "x" } } });
    expect(onUnauthorized).not.toHaveBeenCalled();
    const { error, response } = await client.GET("/api/me");
    expect(response.status).toBe(401);
    expect(error?.error.code).toBe("unauthorized");
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it("sends a key as a Bearer token only when given one (calls from the server)", async () => {
    const fetch = vi.fn(async () => json(200, {}));
    const status = new ApiStatusStore();
    await createPalomaClient({ baseUrl: "http://api.test", fetch, status, token: "pal_k" }).GET(
      "/api/me",
    );
    await createPalomaClient({ baseUrl: "http://dash.test", fetch, status }).GET("/api/me");
    const [withKey, without] = fetch.mock.calls.map((call) => (call as unknown as [Request])[0]);
    expect(withKey?.headers.get("authorization")).toBe("Bearer pal_k");
    expect(without?.headers.get("authorization")).toBeNull();
  });

  it("sends a signed-out user to sign in, then back to the page", () => {
    expect(signInUrl("/")).toBe("/sign-in?expired=1");
    expect(signInUrl("/campaigns/abc?status=failed")).toBe(
      "/sign-in?expired=1&next=%2Fcampaigns%2Fabc%3Fstatus%3Dfailed",
    );
  });

  it("sends the browser to sign in, once, when the app's client meets a 401", async () => {
    const assign = vi.fn();
    vi.stubGlobal("location", {
      origin: "http://dash.test",
      pathname: "/campaigns/abc",
      search: "?page=2",
      assign,
    });
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => json(401, { error: { code: "unauthorized", message: "revoked" } })),
    );
    try {
      await api().GET("/api/me");
      await api().GET("/api/emails");
      expect(assign).toHaveBeenCalledTimes(1);
      expect(assign).toHaveBeenCalledWith("/sign-in?expired=1&next=%2Fcampaigns%2Fabc%3Fpage%3D2");
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
