import { HydrationBoundary, QueryClient, dehydrate } from "@tanstack/react-query";
import { act, cleanup, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Campaign, CampaignPage } from "@/lib/api/types";
import { campaignPageQuery, queries } from "@/lib/queries";

vi.mock("@/lib/api/client", async (importActual) =>
  (await import("@/test/api")).mockedApiClient(importActual),
);

import { fetchMock } from "@/test/api";

import { key, signIn } from "@/test/me";
import { renderWithQueries } from "@/test/render";

import { CampaignList } from "./CampaignList";

function campaign(overrides: Partial<Campaign>): Campaign {
  return {
    id: "0190c7c4-0000-7000-8000-000000000001",
    subject: "Spring sale",
    status: "PROCESSING",
    totalEmails: 10,
    sentEmails: 5,
    failedEmails: 1,
    pendingEmails: 4,
    cancelledEmails: 0,
    suppressedEmails: 0,
    progress: 60,
    duplicatesRemoved: 0,
    mergeTags: false,
    createdAt: "2026-03-01T09:30:00Z",
    updatedAt: "2026-03-01T09:31:00Z",
    startedAt: "2026-03-01T09:30:01Z",
    completedAt: null,
    ...overrides,
  };
}

function page(items: Campaign[], extra: Partial<CampaignPage> = {}): Response {
  const body: CampaignPage = {
    items,
    page: 1,
    perPage: 20,
    total: items.length,
    totalPages: 1,
    // As the API counts them when every campaign is on this page.
    active: items.filter((c) => c.status === "PENDING" || c.status === "PROCESSING").length,
    ...extra,
  };
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { "content-type": "application/json" },
  });
}

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

describe("CampaignList", () => {
  it("shows each campaign's status, progress and counts, polling until none is active", async () => {
    fetchMock
      .mockResolvedValueOnce(page([campaign({})]))
      .mockResolvedValueOnce(
        page([
          campaign({
            status: "COMPLETED",
            sentEmails: 9,
            pendingEmails: 0,
            progress: 100,
            completedAt: "2026-03-01T09:32:00Z",
          }),
        ]),
      );
    renderWithQueries(<CampaignList page={1} />);
    await advance(0);

    const request = fetchMock.mock.calls[0]![0];
    expect(new URL(request.url).search).toBe("?page=1&perPage=20");
    expect(screen.getByRole("link", { name: "Spring sale" }).getAttribute("href")).toBe(
      "/campaigns/0190c7c4-0000-7000-8000-000000000001",
    );
    expect(screen.getByText("Processing", { selector: "[data-status]" })).toBeTruthy();
    const bar = screen.getByRole("progressbar", { name: "Delivery progress of Spring sale" });
    expect(bar.getAttribute("aria-valuenow")).toBe("60");
    const item = within(screen.getByRole("list", { name: "Campaigns" })).getByRole("listitem");
    expect(item.textContent).toContain("5 sent");
    expect(item.textContent).toContain("1 failed");
    expect(item.textContent).toContain("4 remaining");
    expect(screen.getByText("Updating live")).toBeTruthy();

    await advance(1500);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(screen.getByText("Completed", { selector: "[data-status]" })).toBeTruthy();
    expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("100");
    expect(screen.queryByText("Updating live")).toBeNull();

    // Nothing is active any more: no further calls.
    await advance(10_000);
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it("does not poll when every campaign is finished", async () => {
    fetchMock.mockResolvedValue(page([campaign({ status: "FAILED", pendingEmails: 0, failedEmails: 5 })]));
    renderWithQueries(<CampaignList page={1} />);
    await advance(0);
    expect(screen.getByText("Failed", { selector: "[data-status]" })).toBeTruthy();
    await advance(10_000);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it("keeps polling while a campaign on another page is sending", async () => {
    const done = campaign({ status: "COMPLETED", pendingEmails: 0, progress: 100 });
    fetchMock.mockResolvedValueOnce(page([done], { total: 30, totalPages: 2, active: 1 }));
    fetchMock.mockResolvedValueOnce(page([done], { total: 30, totalPages: 2, active: 0 }));
    renderWithQueries(<CampaignList page={1} />);
    await advance(0);
    expect(screen.getByText("Updating live")).toBeTruthy();
    await advance(1500);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(screen.queryByText("Updating live")).toBeNull();
    await advance(10_000);
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it("shows a draft as such, and does not poll for it: it does not move until sent", async () => {
    fetchMock.mockResolvedValue(
      page([campaign({ status: "DRAFT", sentEmails: 0, failedEmails: 0, pendingEmails: 10 })]),
    );
    renderWithQueries(<CampaignList page={1} />);
    await advance(0);
    const badge = screen.getByText("Draft", { selector: "[data-status]" });
    expect(badge.getAttribute("data-status")).toBe("DRAFT");
    expect(badge.className).toContain("violet");
    await advance(10_000);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it("shows when a scheduled campaign goes out, and reads the list again just after", async () => {
    vi.setSystemTime(Date.parse("2026-12-07T07:59:50Z"));
    const scheduled = campaign({
      status: "SCHEDULED",
      sentEmails: 0,
      failedEmails: 0,
      pendingEmails: 10,
      progress: 0,
      startedAt: null,
      scheduledAt: "2026-12-07T08:00:00Z",
    });
    fetchMock
      .mockResolvedValueOnce(page([scheduled]))
      .mockResolvedValue(
        page([{ ...scheduled, status: "PROCESSING", startedAt: "2026-12-07T08:00:00Z" }]),
      );
    renderWithQueries(<CampaignList page={1} />);
    await advance(0);
    const item = within(screen.getByRole("list", { name: "Campaigns" })).getByRole("listitem");
    expect(screen.getByText("Scheduled", { selector: "[data-status]" })).toBeTruthy();
    // In the browser's time zone, as every date of the list (UTC here).
    expect(item.textContent).toMatch(/Scheduled for Dec 7, 2026, 8:00\sAM/);
    expect(item.querySelector("time")?.getAttribute("dateTime")).toBe("2026-12-07T08:00:00Z");
    expect(screen.queryByText("Updating live")).toBeNull();

    // Due in 10 s: read again just after, not before.
    await advance(10_000);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    await advance(1000);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(screen.getByText("Processing", { selector: "[data-status]" })).toBeTruthy();
    expect(item.textContent).not.toContain("Scheduled for");
  });

  it("keeps retrying while the API is unreachable and recovers by itself", async () => {
    fetchMock
      .mockRejectedValueOnce(new TypeError("fetch failed"))
      .mockRejectedValueOnce(new TypeError("fetch failed"))
      .mockResolvedValueOnce(page([campaign({ status: "COMPLETED", pendingEmails: 0 })]));
    renderWithQueries(<CampaignList page={1} />);
    await advance(0);
    expect(screen.getByText("The campaigns could not be loaded.")).toBeTruthy();

    await advance(2000);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    await advance(2000);
    expect(fetchMock).toHaveBeenCalledTimes(3);
    expect(screen.queryByText("The campaigns could not be loaded.")).toBeNull();
    expect(screen.getByRole("link", { name: "Spring sale" })).toBeTruthy();
  });

  it("shows an empty state with a way to create the first campaign", async () => {
    fetchMock.mockResolvedValueOnce(page([]));
    renderWithQueries(<CampaignList page={1} />, (c) =>
      signIn(c, key("creator", ["campaigns:read", "campaigns:create"])),
    );
    await advance(0);
    expect(screen.getByText("No campaigns yet")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Create your first campaign" }).getAttribute("href")).toBe(
      "/campaigns/new",
    );
  });

  it("does not invite a key without campaigns:create to create one", async () => {
    fetchMock.mockResolvedValueOnce(page([]));
    renderWithQueries(<CampaignList page={1} />, (c) =>
      signIn(c, key("reader", ["campaigns:read", "campaigns:send"])),
    );
    await advance(0);
    expect(screen.getByText("No campaigns yet")).toBeTruthy();
    expect(screen.queryByRole("link", { name: "Create your first campaign" })).toBeNull();
  });

  it("shows paused and cancelled campaigns with their badges, the cancelled among the done", async () => {
    fetchMock.mockResolvedValueOnce(
      page([
        campaign({ id: "0190c7c4-0000-7000-8000-0000000000c1", subject: "On hold", status: "PAUSED" }),
        campaign({
          id: "0190c7c4-0000-7000-8000-0000000000c2",
          subject: "Called off",
          status: "CANCELLED",
          pendingEmails: 0,
          cancelledEmails: 4,
          progress: 100,
          completedAt: "2026-03-01T09:32:00Z",
        }),
      ]),
    );
    renderWithQueries(<CampaignList page={1} />);
    await advance(0);
    const [paused, cancelled] = within(screen.getByRole("list", { name: "Campaigns" })).getAllByRole(
      "listitem",
    );
    expect(within(paused!).getByText("Paused", { selector: "[data-status]" })).toBeTruthy();
    expect(paused!.textContent).not.toContain("cancelled");
    expect(within(cancelled!).getByText("Cancelled", { selector: "[data-status]" })).toBeTruthy();
    expect(cancelled!.textContent).toContain("4 cancelled");
    expect(cancelled!.textContent).toContain("0 remaining");
    expect(within(cancelled!).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("100");
    // Neither sends: the list is not read again.
    expect(screen.queryByText("Updating live")).toBeNull();
    await advance(5000);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it("shows a campaign's suppressed recipients among its counters, only when there are some", async () => {
    fetchMock.mockResolvedValueOnce(
      page([
        campaign({
          id: "0190c7c4-0000-7000-8000-0000000000d1",
          subject: "Some suppressed",
          status: "COMPLETED",
          totalEmails: 10,
          sentEmails: 7,
          failedEmails: 0,
          pendingEmails: 0,
          suppressedEmails: 3,
          progress: 100,
        }),
        campaign({ id: "0190c7c4-0000-7000-8000-0000000000d2", subject: "Nobody on the list" }),
      ]),
    );
    renderWithQueries(<CampaignList page={1} />);
    await advance(0);
    const [some, none] = within(screen.getByRole("list", { name: "Campaigns" })).getAllByRole("listitem");
    expect(some!.textContent).toContain("3 suppressed");
    expect(within(some!).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("100");
    expect(within(some!).getByRole("progressbar").getAttribute("aria-valuetext")).toContain(
      "3 suppressed",
    );
    expect(none!.textContent).not.toContain("suppressed");
  });

  it("asks for the requested page and links to the pages around it", async () => {
    fetchMock.mockResolvedValueOnce(
      page([campaign({ status: "COMPLETED", pendingEmails: 0 })], { page: 2, total: 45, totalPages: 3 }),
    );
    renderWithQueries(<CampaignList page={2} />);
    await advance(0);
    expect(new URL(fetchMock.mock.calls[0]![0].url).searchParams.get("page")).toBe("2");
    const nav = screen.getByRole("navigation", { name: "Campaign pages" });
    expect(nav.textContent).toContain("Page 2 of 3");
    expect(screen.getByRole("link", { name: "← Previous" }).getAttribute("href")).toBe("/");
    expect(screen.getByRole("link", { name: "Next →" }).getAttribute("href")).toBe("/?page=3");
    expect(screen.getByText("45 campaigns")).toBeTruthy();
  });

  it("asks for the filtered campaigns and keeps the filter in its links and search", async () => {
    fetchMock.mockResolvedValueOnce(
      page([campaign({ status: "DRAFT", subject: "Spring news", pendingEmails: 10 })], {
        page: 1,
        total: 25,
        totalPages: 2,
      }),
    );
    renderWithQueries(<CampaignList page={1} filter={{ status: "DRAFT", q: "news" }} />);
    await advance(0);
    const asked = new URL(fetchMock.mock.calls[0]![0].url).searchParams;
    expect([asked.get("status"), asked.get("q")]).toEqual(["DRAFT", "news"]);
    const tabs = screen.getByRole("navigation", { name: "Filter by status" });
    const current = within(tabs).getByRole("link", { current: "page" });
    expect(current.textContent).toBe("Drafts");
    expect(within(tabs).getAllByRole("link").map((a) => a.textContent)).toEqual([
      "All",
      "Drafts",
      "Scheduled",
      "Pending",
      "Sending",
      "Paused",
      "Completed",
      "Failed",
      "Cancelled",
    ]);
    expect(within(tabs).getByRole("link", { name: "Cancelled" }).getAttribute("href")).toBe(
      "/?status=cancelled&q=news",
    );
    expect(within(tabs).getByRole("link", { name: "All" }).getAttribute("href")).toBe("/?q=news");
    expect(screen.getByRole("link", { name: "Next →" }).getAttribute("href")).toBe(
      "/?status=draft&q=news&page=2",
    );
    const search = screen.getByRole("searchbox", { name: "Search subjects" }) as HTMLInputElement;
    expect(search.value).toBe("news");
  });

  it("says when no campaign matches, with a way back to all of them", async () => {
    fetchMock.mockResolvedValueOnce(page([], { total: 0, totalPages: 0 }));
    renderWithQueries(<CampaignList page={1} filter={{ q: "nothing" }} />);
    await advance(0);
    expect(screen.getByText("No campaign matches.")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Show every campaign" }).getAttribute("href")).toBe("/");
  });

  it("shows a page rendered on the server at once, then keeps it live from the browser", async () => {
    const server = new QueryClient();
    const first = page([campaign({ sentEmails: 2, pendingEmails: 7, progress: 30 })]);
    server.setQueryData(campaignPageQuery(queries(), 1).queryKey, await first.json());
    fetchMock.mockResolvedValueOnce(page([campaign({})]));

    renderWithQueries(
      <HydrationBoundary state={dehydrate(server)}>
        <CampaignList page={1} />
      </HydrationBoundary>,
    );
    // No spinner and no call: the answer came with the page.
    expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("30");
    await advance(0);
    expect(fetchMock).not.toHaveBeenCalled();

    await advance(1500);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("60");
  });
});
