import { act, cleanup, fireEvent, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { ActivityPage, Campaign, RecipientPage } from "@/lib/api/types";

vi.mock("next/navigation", () => ({
  useRouter: () => ({ push: vi.fn(), replace: vi.fn(), prefetch: vi.fn() }),
}));

vi.mock("@/lib/api/client", async (importActual) =>
  (await import("@/test/api")).mockedApiClient(importActual),
);

import { fetchMock } from "@/test/api";

import { key, signIn } from "@/test/me";
import { renderWithQueries } from "@/test/render";

import { CampaignDetail } from "./CampaignDetail";
import { describeStopReason } from "./StoppedCard";

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
    cancelledEmails: 0,
    suppressedEmails: 0,
    progress: done / 10,
    duplicatesRemoved: 2,
    mergeTags: false,
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
      fields: {},
      updatedAt: "2026-03-01T09:30:05Z",
    },
  ],
  page: 1,
  perPage: 50,
  total: 1,
  totalPages: 1,
};

const NO_ACTIVITY: ActivityPage = { items: [], page: 1, perPage: 10, total: 0, totalPages: 0 };

function activity(entries: [ActivityPage["items"][number]["action"], string][], page = 1, totalPages = 1) {
  return {
    items: entries.map(([action, keyName], i) => ({
      id: `0190c7c4-0000-7000-8000-0000000001${page}${i}`,
      action,
      campaignId: ID,
      keyId: null,
      keyName,
      clientAddress: "192.0.2.7",
      at: `2026-03-01T09:3${i}:00Z`,
    })),
    page,
    perPage: 10,
    total: totalPages * 10,
    totalPages,
  } satisfies ActivityPage;
}

function draft(): Campaign {
  return {
    ...campaign(0),
    status: "DRAFT",
    sentEmails: 0,
    failedEmails: 0,
    pendingEmails: 3,
    totalEmails: 3,
    progress: 0,
    startedAt: null,
  };
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

describe("CampaignDetail", () => {
  it("shows live progress, rate and ETA, the sandboxed body and failures, without the chart", async () => {
    const progress = [100, 130, 160];
    let polls = 0;
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/activity")) return json(200, NO_ACTIVITY);
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

    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("reader", ["campaigns:read"])),
    );
    await advance(0);
    expect(screen.getByRole("heading", { level: 1, name: "Weekly digest" })).toBeTruthy();
    expect(screen.getByText("Measuring…")).toBeTruthy();
    expect(screen.getByText("Estimating…")).toBeTruthy();

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

  it("says a paused campaign is paused, not how long it has left, and reads it again slowly", async () => {
    let reads = 0;
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/activity")) return json(200, NO_ACTIVITY);
      if (url.pathname.endsWith("/recipients")) return json(200, { ...RECIPIENTS, items: [] });
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      if (url.searchParams.get("includeBody") === "true") return json(200, { ...campaign(400), body: "<p>x</p>" });
      reads += 1;
      return json(200, { ...campaign(400), status: "PAUSED" });
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("reader", ["campaigns:read"])),
    );
    await advance(0);
    expect(screen.getByText("Paused", { selector: "[data-status]" })).toBeTruthy();
    expect(screen.queryByText("Live")).toBeNull();
    const timeLeft = screen.getByText("Time left").parentElement!;
    expect(within(timeLeft).getByText("Paused")).toBeTruthy();
    expect(within(timeLeft).getByText("Until resumed")).toBeTruthy();
    expect(screen.queryByText(/^~/)).toBeNull();
    expect(screen.queryByText("Measuring…")).toBeNull();

    expect(reads).toBe(1);
    await advance(4000);
    expect(reads).toBe(1);
    await advance(1000);
    expect(reads).toBe(2);
  });

  it("shows a cancelled campaign's unsent recipients, as done, without any time left", async () => {
    const cancelled: Campaign = {
      ...campaign(400),
      status: "CANCELLED",
      pendingEmails: 0,
      cancelledEmails: 600,
      progress: 100,
      completedAt: "2026-03-01T09:35:01Z",
    };
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/activity")) {
        return json(200, activity([["campaign.created", "admin"], ["campaign.paused", "admin"], ["campaign.resumed", "admin"], ["campaign.cancelled", "admin"]]));
      }
      if (url.pathname.endsWith("/recipients")) return json(200, { ...RECIPIENTS, items: [] });
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      return json(200, cancelled);
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("reader", ["campaigns:read"])),
    );
    await advance(0);
    expect(screen.getByText("Cancelled", { selector: "[data-status]" })).toBeTruthy();
    const stat = screen.getByText("600", { selector: "dd" }).parentElement!;
    expect(within(stat).getByText("Cancelled", { selector: "dt" })).toBeTruthy();
    expect(within(stat).getByText("Will not be sent")).toBeTruthy();
    // The header says when it was cancelled.
    expect(screen.getAllByText("Cancelled", { selector: "dt" })).toHaveLength(2);
    expect(screen.queryByText("Time left")).toBeNull();
    expect(screen.getByText("Until cancelled")).toBeTruthy();
    const bar = screen.getByRole("progressbar", { name: "Delivery progress" });
    expect(bar.getAttribute("aria-valuenow")).toBe("100");
    expect(bar.getAttribute("aria-valuetext")).toBe(
      "100% done: 390 sent, 10 failed, 600 cancelled, 0 remaining",
    );
    expect(screen.getByText(/Cancelled 60%/)).toBeTruthy();
    const filters = screen.getByRole("group", { name: "Filter by status" });
    expect(within(filters).getByRole("radio", { name: "Cancelled" })).toBeTruthy();
    const items = within(screen.getByRole("list", { name: "Activity" })).getAllByRole("listitem");
    expect(items.map((li) => li.firstElementChild?.textContent)).toEqual([
      "Created by admin",
      "Paused by admin",
      "Resumed by admin",
      "Cancelled by admin",
    ]);
  });

  it("counts suppressed recipients as done, says why they were never sent, and filters them", async () => {
    const withSuppressed: Campaign = {
      ...campaign(0),
      status: "COMPLETED",
      totalEmails: 100,
      sentEmails: 80,
      failedEmails: 8,
      pendingEmails: 0,
      suppressedEmails: 12,
      progress: 100,
      completedAt: "2026-03-01T09:35:01Z",
    };
    const asked: string[] = [];
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/activity")) return json(200, NO_ACTIVITY);
      if (url.pathname.endsWith("/recipients")) {
        asked.push(url.searchParams.get("status") ?? "");
        return json(200, {
          ...RECIPIENTS,
          items: [
            {
              id: "0190c7c4-0000-7000-8000-0000000000b1",
              email: "gone@example.org",
              status: "SUPPRESSED",
              attempts: 0,
              fields: {},
              updatedAt: "2026-03-01T09:30:00Z",
            },
          ],
        });
      }
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      return json(200, withSuppressed);
    });
    renderWithQueries(<CampaignDetail id={ID} filter="suppressed" page={1} />, (c) =>
      signIn(c, key("reader", ["campaigns:read"])),
    );
    await advance(0);
    const delivery = screen.getByRole("region", { name: "Delivery" });
    expect(within(delivery).getByText("12 suppressed")).toBeTruthy();
    expect(within(delivery).getByText("2 duplicates removed")).toBeTruthy();
    expect(within(delivery).getByText(/Suppressed 12%/)).toBeTruthy();
    expect(within(delivery).getByTestId("suppressed-note").textContent).toBe(
      "Suppressed: on the suppression list when the campaign was stored or started sending; never sent.",
    );
    expect(within(delivery).getByRole("link", { name: "suppression list" }).getAttribute("href")).toBe(
      "/suppressions",
    );
    const bar = within(delivery).getByRole("progressbar", { name: "Delivery progress" });
    expect(bar.getAttribute("aria-valuenow")).toBe("100");
    expect(bar.getAttribute("aria-valuetext")).toBe(
      "100% done: 80 sent, 8 failed, 12 suppressed, 0 remaining",
    );
    const filters = screen.getByRole("group", { name: "Filter by status" });
    const radio = within(filters).getByRole("radio", { name: "Suppressed" }) as HTMLInputElement;
    expect(radio.checked).toBe(true);
    expect(radio.labels?.[0]?.textContent).toBe("Suppressed12");
    expect(asked).toEqual(["SUPPRESSED"]);
    const row = screen.getByRole("row", { name: /gone@example\.org/ });
    expect(within(row).getByText("Suppressed", { selector: "[data-status]" })).toBeTruthy();
    expect(row.textContent).toContain("Never sent: on the suppression list when the campaign was stored or started sending");
  });

  it("names the campaign's own sender and Reply-To in the message card, only when set", async () => {
    const own: Campaign = {
      ...campaign(500),
      from: { name: "The Acme team", email: "news@localhost" },
      replyTo: "help@desk.example",
    };
    let current = own;
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/activity")) return json(200, NO_ACTIVITY);
      if (url.pathname.endsWith("/recipients")) return json(200, RECIPIENTS);
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      return json(200, current);
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("reader", ["campaigns:read"])),
    );
    await advance(0);
    const message = screen.getByRole("region", { name: "Message" });
    expect(within(message).getByTestId("campaign-from").textContent).toBe(
      "From: The Acme team <news@localhost>",
    );
    expect(within(message).getByTestId("campaign-reply-to").textContent).toBe(
      "Reply-To: help@desk.example",
    );
    cleanup();
    current = { ...campaign(500), from: { email: "news@localhost" }, replyTo: null };
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("reader", ["campaigns:read"])),
    );
    await advance(0);
    const again = screen.getByRole("region", { name: "Message" });
    expect(within(again).getByTestId("campaign-from").textContent).toBe("From: news@localhost");
    expect(within(again).queryByTestId("campaign-reply-to")).toBeNull();
    cleanup();
    current = campaign(500);
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("reader", ["campaigns:read"])),
    );
    await advance(0);
    expect(screen.queryByTestId("campaign-from")).toBeNull();
  });

  it("says nothing about suppressions when there are none", async () => {
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/activity")) return json(200, NO_ACTIVITY);
      if (url.pathname.endsWith("/recipients")) return json(200, RECIPIENTS);
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      return json(200, campaign(500));
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("reader", ["campaigns:read"])),
    );
    await advance(0);
    const delivery = screen.getByRole("region", { name: "Delivery" });
    expect(within(delivery).queryByText(/suppressed/i)).toBeNull();
    expect(within(delivery).queryByTestId("suppressed-note")).toBeNull();
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
  it("offers to send a draft to a key that may send, and follows it once sent", async () => {
    let sent = false;
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (request.method === "POST" && url.pathname === `/api/emails/${ID}/send`) {
        sent = true;
        return json(202, { ...draft(), status: "PENDING", jobId: ID, enqueued: true });
      }
      if (url.pathname.endsWith("/activity")) {
        return json(
          200,
          activity(sent ? [["campaign.created", "e2e-creator"], ["campaign.sent", "e2e-sender"]] : [["campaign.created", "e2e-creator"]]),
        );
      }
      if (url.pathname.endsWith("/recipients")) return json(200, { ...RECIPIENTS, items: [] });
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      if (url.searchParams.get("includeBody") === "true") return json(200, { ...draft(), body: "<p>x</p>" });
      return json(200, sent ? { ...draft(), status: "PENDING" } : draft());
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("e2e-sender", ["campaigns:read", "campaigns:send"])),
    );
    await advance(0);
    expect(screen.getByText("Draft", { selector: "[data-status]" })).toBeTruthy();
    expect(screen.getByRole("heading", { name: "This campaign is a draft" })).toBeTruthy();
    const trail = screen.getByRole("list", { name: "Activity" });
    expect(trail.textContent).toContain("Created by e2e-creator");
    expect(trail.textContent).toContain("from 192.0.2.7");

    // A key that may send may also cancel the draft.
    expect(screen.getByRole("button", { name: "Cancel campaign" })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Send now" }));
    expect(screen.getByText("Send it to 3 recipients now? This cannot be undone.")).toBeTruthy();
    // Focus moves to the way out rather than being lost with the button that went.
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Cancel" }));
    expect(sent).toBe(false);
    fireEvent.click(screen.getByRole("button", { name: "Yes, send it" }));
    await advance(0);
    await advance(0);
    expect(sent).toBe(true);
    const post = fetchMock.mock.calls.find(([r]) => r.method === "POST")![0];
    expect(post.body).toBeNull();
    expect(screen.getByText("Pending", { selector: "[data-status]" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Send now" })).toBeNull();
    const items = within(screen.getByRole("list", { name: "Activity" })).getAllByRole("listitem");
    expect(items.map((li) => li.firstElementChild?.textContent)).toEqual([
      "Created by e2e-creator",
      "Sent by e2e-sender",
    ]);
  });

  it("says so when the draft was sent meanwhile (409)", async () => {
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (request.method === "POST") {
        return json(409, { error: { code: "invalid_state", message: "the campaign is not a draft" } });
      }
      if (url.pathname.endsWith("/activity")) return json(200, NO_ACTIVITY);
      if (url.pathname.endsWith("/recipients")) return json(200, { ...RECIPIENTS, items: [] });
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      return json(200, draft());
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("admin", ["campaigns:read", "campaigns:send"])),
    );
    await advance(0);
    fireEvent.click(screen.getByRole("button", { name: "Send now" }));
    fireEvent.click(screen.getByRole("button", { name: "Yes, send it" }));
    await advance(0);
    await advance(0);
    expect(screen.getByRole("alert").textContent).toBe(
      "This campaign is no longer a draft: someone has sent it already.",
    );
  });

  it("shows no send button on a draft to a key that may not send", async () => {
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/activity")) {
        return json(200, activity([["campaign.created", "e2e-creator"]], 1, 3));
      }
      if (url.pathname.endsWith("/recipients")) return json(200, { ...RECIPIENTS, items: [] });
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      return json(200, draft());
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("e2e-creator", ["campaigns:read", "campaigns:create"])),
    );
    await advance(0);
    expect(screen.getByRole("heading", { name: "This campaign is a draft" })).toBeTruthy();
    expect(screen.getByText(/waits for someone whose key may send campaigns/)).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Send now" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Cancel campaign" })).toBeNull();

    // The trail is paged.
    const pages = screen.getByRole("navigation", { name: "Activity pages" });
    expect(pages.textContent).toContain("Page 1 of 3");
    fireEvent.click(within(pages).getByRole("button", { name: "Next →" }));
    await advance(0);
    const asked = fetchMock.mock.calls
      .map(([r]) => new URL(r.url))
      .filter((u) => u.pathname.endsWith("/activity"))
      .map((u) => u.searchParams.get("page"));
    expect(asked).toEqual(["1", "2"]);
    expect(screen.getByRole("navigation", { name: "Activity pages" }).textContent).toContain(
      "Page 2 of 3",
    );
  });
  it("retries a finished campaign's failed recipients for a key that may send, transient ones by default", async () => {
    const finished = (): Campaign => ({
      ...campaign(1000),
      status: "COMPLETED",
      completedAt: "2026-03-01T09:40:00Z",
    });
    let retried = false;
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (request.method === "POST") {
        retried = true;
        return json(202, {
          ...finished(),
          status: "PENDING",
          failedEmails: 3,
          pendingEmails: 7,
          completedAt: null,
          requeued: 7,
          enqueued: true,
        });
      }
      if (url.pathname.endsWith("/activity")) return json(200, NO_ACTIVITY);
      if (url.pathname.endsWith("/recipients")) return json(200, { ...RECIPIENTS, items: [] });
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      return json(200, retried ? { ...finished(), status: "PENDING", completedAt: null } : finished());
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("admin", ["campaigns:read", "campaigns:send"])),
    );
    await advance(0);
    expect(screen.getByText(/This campaign has 10 failed recipients/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Retry failed" }));
    const keep = screen.getByRole("checkbox", {
      name: "Leave addresses the server refused for good (5xx) failed",
    }) as HTMLInputElement;
    expect(keep.checked).toBe(true);
    fireEvent.click(screen.getByRole("button", { name: "Yes, retry" }));
    await advance(0);
    await advance(0);
    const post = fetchMock.mock.calls.find(([r]) => r.method === "POST")![0];
    expect(new URL(post.url).pathname).toBe(`/api/emails/${ID}/retry-failed`);
    expect(await post.clone().json()).toEqual({ only: "transient" });
    const card = screen.getByRole("region", { name: "Retry failed recipients" });
    expect(within(card).getByRole("status").textContent).toBe("7 recipients queued again.");
    expect(screen.queryByRole("button", { name: "Retry failed" })).toBeNull();
  });

  it("offers no retry to a key that may not send", async () => {
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/activity")) return json(200, NO_ACTIVITY);
      if (url.pathname.endsWith("/recipients")) return json(200, { ...RECIPIENTS, items: [] });
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      return json(200, { ...campaign(1000), status: "COMPLETED", completedAt: "2026-03-01T09:40:00Z" });
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("reader", ["campaigns:read"])),
    );
    await advance(0);
    expect(screen.queryByRole("heading", { name: "Retry failed recipients" })).toBeNull();
  });

  it("says why the worker stopped a campaign, at the top, and that Retry failed restarts it", async () => {
    const reason =
      "not sent: the campaign was stopped after 51 of 100 messages failed " +
      "(failure threshold 50% after 100 messages)";
    const stopped: Campaign = {
      ...campaign(1000),
      status: "FAILED",
      sentEmails: 49,
      failedEmails: 951,
      pendingEmails: 0,
      completedAt: "2026-03-01T09:40:00Z",
      stopReason: reason,
    };
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/activity")) return json(200, NO_ACTIVITY);
      if (url.pathname.endsWith("/recipients")) return json(200, { ...RECIPIENTS, items: [] });
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      return json(200, stopped);
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("admin", ["campaigns:read", "campaigns:send"])),
    );
    await advance(0);
    const alert = screen.getByRole("alert", { name: "Stopped before every recipient was tried" });
    expect(alert.textContent).toContain(
      "The campaign was stopped after 51 of 100 messages failed " +
        "(failure threshold 50% after 100 messages).",
    );
    expect(alert.textContent).toContain("“Retry failed” below sends them their message");
    // Above everything else on the page but its title.
    const retry = screen.getByRole("region", { name: "Retry failed recipients" });
    expect(alert.compareDocumentPosition(retry) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    const delivery = screen.getByRole("region", { name: "Delivery" });
    expect(alert.compareDocumentPosition(delivery) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();

    // A key that may not retry is told who may.
    cleanup();
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("reader", ["campaigns:read"])),
    );
    await advance(0);
    const seen = screen.getByRole("alert", { name: "Stopped before every recipient was tried" });
    expect(seen.textContent).toContain("someone whose key may send campaigns can retry them");
    expect(screen.queryByRole("region", { name: "Retry failed recipients" })).toBeNull();
  });

  it("shows no stop notice for a campaign that was not stopped", async () => {
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/activity")) return json(200, NO_ACTIVITY);
      if (url.pathname.endsWith("/recipients")) return json(200, { ...RECIPIENTS, items: [] });
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      return json(200, { ...campaign(1000), status: "COMPLETED", stopReason: null });
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("admin", ["campaigns:read", "campaigns:send"])),
    );
    await advance(0);
    expect(screen.getByText("Completed", { selector: "[data-status]" })).toBeTruthy();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("words a stop reason as a sentence", () => {
    expect(describeStopReason("not sent: the campaign was stopped after 5 failed runs (see the worker's log)")).toBe(
      "The campaign was stopped after 5 failed runs (see the worker's log).",
    );
    expect(describeStopReason("Stopped by the operator.")).toBe("Stopped by the operator.");
    expect(describeStopReason("  ")).toBe("The worker stopped sending this campaign.");
  });

  it("shows a draft's send time: scheduled for it when sent, or sent at once once it has passed", async () => {
    const at = new Date(Date.now() + 60_000).toISOString();
    let sent = false;
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (request.method === "POST") {
        sent = true;
        return json(202, { ...draft(), status: "SCHEDULED", scheduledAt: at, jobId: ID, enqueued: true });
      }
      if (url.pathname.endsWith("/activity")) return json(200, NO_ACTIVITY);
      if (url.pathname.endsWith("/recipients")) return json(200, { ...RECIPIENTS, items: [] });
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      return json(200, { ...draft(), status: sent ? "SCHEDULED" : "DRAFT", scheduledAt: at });
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("admin", ["campaigns:read", "campaigns:send"])),
    );
    await advance(0);
    const card = screen.getByRole("region", { name: "This campaign is a draft" });
    expect(card.textContent).toMatch(/Will be scheduled for .+ \(UTC\), when sent\./);
    expect(within(card).getByRole("button", { name: "Schedule" })).toBeTruthy();
    expect(within(card).queryByRole("button", { name: "Send now" })).toBeNull();

    // Its time passes while the page is open: sending it now sends it at once.
    await advance(60_000);
    expect(card.textContent).toMatch(/Its send time, .+ \(UTC\), has passed: once sent, it goes out at once\./);
    expect(within(card).getByRole("button", { name: "Send now" })).toBeTruthy();
  });

  it("schedules a draft whose time is ahead when it is sent", async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    let sent = false;
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (request.method === "POST") {
        sent = true;
        return json(202, { ...draft(), status: "SCHEDULED", scheduledAt: at, jobId: ID, enqueued: true });
      }
      if (url.pathname.endsWith("/activity")) return json(200, NO_ACTIVITY);
      if (url.pathname.endsWith("/recipients")) return json(200, { ...RECIPIENTS, items: [] });
      if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
      return json(200, { ...draft(), status: sent ? "SCHEDULED" : "DRAFT", scheduledAt: at });
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("admin", ["campaigns:read", "campaigns:send"])),
    );
    await advance(0);
    fireEvent.click(screen.getByRole("button", { name: "Schedule" }));
    expect(screen.getByText(/^Schedule it to go to 3 recipients by itself at .+ \(UTC\)\?$/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Yes, schedule it" }));
    await advance(0);
    await advance(0);
    expect(sent).toBe(true);
    expect(screen.getByText("Scheduled", { selector: "[data-status]" })).toBeTruthy();
    expect(screen.queryByRole("region", { name: "This campaign is a draft" })).toBeNull();
    expect(screen.getByRole("region", { name: /^Scheduled for .+ \(UTC\)$/ })).toBeTruthy();
  });
});
