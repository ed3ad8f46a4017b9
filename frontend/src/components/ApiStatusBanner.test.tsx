import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { createPalomaClient } from "@/lib/api/client";
import { ApiError, unwrap } from "@/lib/api/errors";
import { ApiStatusStore } from "@/lib/api/status";

import { ApiStatusBanner } from "./ApiStatusBanner";

afterEach(cleanup);

const EMPTY_PAGE = { items: [], page: 1, perPage: 20, total: 0, totalPages: 0 };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function setup() {
  const store = new ApiStatusStore();
  const fetch = vi.fn<(request: Request) => Promise<Response>>();
  const client = createPalomaClient({ baseUrl: "http://paloma.test", fetch, status: store });
  const listCampaigns = () => act(() => unwrap(client.GET("/api/emails")).catch((e: unknown) => e));
  render(<ApiStatusBanner store={store} />);
  return { fetch, listCampaigns };
}

describe("ApiStatusBanner", () => {
  it("shows nothing while the API answers", async () => {
    const { fetch, listCampaigns } = setup();
    fetch.mockResolvedValue(json(200, EMPTY_PAGE));
    await expect(listCampaigns()).resolves.toEqual(EMPTY_PAGE);
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("appears when the API cannot be reached and disappears once it answers again", async () => {
    const { fetch, listCampaigns } = setup();

    fetch.mockRejectedValueOnce(new TypeError("fetch failed"));
    const failure = await listCampaigns();
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).unreachable).toBe(true);
    expect(screen.getByRole("alert").textContent).toContain("The Paloma API cannot be reached.");

    // Still down: the banner stays.
    fetch.mockRejectedValueOnce(new TypeError("fetch failed"));
    await listCampaigns();
    expect(screen.getByRole("alert")).toBeTruthy();

    fetch.mockResolvedValueOnce(json(200, EMPTY_PAGE));
    await listCampaigns();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("appears for the proxy's 502 api_unreachable answer", async () => {
    const { fetch, listCampaigns } = setup();
    fetch.mockResolvedValueOnce(
      json(502, { error: { code: "api_unreachable", message: "The Paloma API cannot be reached." } }),
    );
    const failure = (await listCampaigns()) as ApiError;
    expect(failure.code).toBe("api_unreachable");
    expect(screen.getByRole("alert").textContent).toContain("cannot be reached");
  });

  it("says the API is unavailable on 503, and clears on success", async () => {
    const { fetch, listCampaigns } = setup();
    fetch.mockResolvedValueOnce(
      json(503, { error: { code: "service_unavailable", message: "a dependency is down" } }),
    );
    await listCampaigns();
    expect(screen.getByRole("alert").textContent).toContain("The Paloma API is unavailable.");

    fetch.mockResolvedValueOnce(json(200, EMPTY_PAGE));
    await listCampaigns();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("stays hidden for ordinary client errors such as 404", async () => {
    const { fetch, listCampaigns } = setup();
    fetch.mockResolvedValueOnce(json(404, { error: { code: "not_found", message: "campaign not found" } }));
    const failure = (await listCampaigns()) as ApiError;
    expect(failure.status).toBe(404);
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
