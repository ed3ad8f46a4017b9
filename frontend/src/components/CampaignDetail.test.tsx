import { act, cleanup, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Campaign, RecipientPage } from "@/lib/api/types";

const { fetchMock } = vi.hoisted(() => ({
  fetchMock: vi.fn<(request: Request) => Promise<Response>>(),
}));

vi.mock("next/navigation", () => ({
  useRouter: () => ({ push: vi.fn(), replace: vi.fn(), prefetch: vi.fn() }),
}));

vi.mock("@/lib/api/client", async (importActual) => {
  const actual = await importActual<typeof import("@/lib/api/client")>();
  const { ApiStatusStore } = await import("@/lib/api/status");
  const client = actual.createPalomaClient({
    baseUrl: "http://paloma.test",
    fetch: (request) => fetchMock(request),
    status: new ApiStatusStore(),
  });
  return { ...actual, api: () => client };
});

import { renderWithQueries } from "@/test/render";

import { CampaignDetail } from "./CampaignDetail";

const ID = "0190c7c4-0000-7000-8000-000000000002";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function campaign(done: number): Campaign {
  return {
    id: ID,
    subject: "Weekly digest",
    status: "PROCESSING",
    totalEmails: 1000,
    sentEmails: done - 10,
    failedEmails: 10,
    pendingEmails: 1000 - done,
    progress: done / 10,
    duplicatesRemoved: 2,
    createdAt: "2026-03-01T09:30:00Z",
    updatedAt: "2026-03-01T09:31:00Z",
    startedAt: "2026-03-01T09:30:01Z",
    completedAt: null,
  };
}

const RECIPIENTS: RecipientPage = {
  items: [
    {
      id: "0190c7c4-0000-7000-8000-0000000000a1",
      email: "bounce@example.org",
      name: "Bounce",
      status: "FAILED",
      error: "550 5.1.1 mailbox unavailable",
      attempts: 1,
      updatedAt: "2026-03-01T09:30:05Z",
    },
  ],
  page: 1,
  perPage: 50,
  total: 1,
  totalPages: 1,
};

async function advance(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"],
  });
  fetchMock.mockReset();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe("CampaignDetail", () => {
  it("shows live progress, rate and ETA, the sandboxed body and failures, without the chart", async () => {
    const progress = [100, 130, 160];
    let polls = 0;
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/timeline")) {
        return json(404, { error: { code: "not_found", message: "not found" } });
      }
      if (url.pathname.endsWith("/recipients")) return json(200, RECIPIENTS);
      if (url.searchParams.get("includeBody") === "true") {
        return json(200, { ...campaign(100), body: "<p>Hello <b>there</b></p>" });
      }
      const done = progress[Math.min(polls, progress.length - 1)]!;
      polls += 1;
      return json(200, campaign(done));
    });

    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />);
    await advance(0);
    expect(screen.getByRole("heading", { level: 1, name: "Weekly digest" })).toBeTruthy();
    expect(screen.getAllByText("Measuring…")).toHaveLength(2);

    await advance(1500);
    await advance(1500);
    expect(polls).toBe(3);
    const bar = screen.getByRole("progressbar", { name: "Delivery progress" });
    expect(bar.getAttribute("aria-valuenow")).toBe("16");
    // 60 messages in 3 s: 20 per second; 840 remaining: 42 s.
    expect(screen.getByText("20 / s")).toBeTruthy();
    expect(screen.getByText("~42 s")).toBeTruthy();
    expect(screen.getByText("2 duplicates removed")).toBeTruthy();

    const frame = screen.getByTitle("Email preview");
    expect(frame.getAttribute("sandbox")).toBe("");
    expect(frame.getAttribute("srcdoc")).toBe("<p>Hello <b>there</b></p>");

    const table = screen.getByRole("table");
    expect(within(table).getByText("bounce@example.org")).toBeTruthy();
    expect(within(table).getByText("550 5.1.1 mailbox unavailable")).toBeTruthy();

    // The timeline endpoint answered 404: the page works, the chart says it is unavailable.
    expect(screen.getByText("The chart is not available right now.")).toBeTruthy();
    const timelineCalls = fetchMock.mock.calls.filter(([r]) => r.url.endsWith("/timeline"));
    expect(timelineCalls).toHaveLength(1);
  });

  it("says when the campaign does not exist, and stops asking", async () => {
    fetchMock.mockResolvedValue(json(404, { error: { code: "not_found", message: "campaign not found" } }));
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />);
    await advance(0);
    expect(screen.getByRole("heading", { name: "Campaign not found" })).toBeTruthy();
    const calls = fetchMock.mock.calls.length;
    await advance(10_000);
    expect(fetchMock.mock.calls.length).toBe(calls);
  });
});
