import { act, cleanup, fireEvent, screen, within } from "@testing-library/react";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// The browser's time zone, set before anything formats a date. Madrid is UTC+1 in winter.
const { savedTz } = vi.hoisted(() => {
  const savedTz = process.env.TZ;
  process.env.TZ = "Europe/Madrid";
  return { savedTz };
});

vi.mock("next/navigation", () => ({
  useRouter: () => ({ push: vi.fn(), replace: vi.fn(), prefetch: vi.fn() }),
}));

vi.mock("@/lib/api/client", async (importActual) =>
  (await import("@/test/api")).mockedApiClient(importActual),
);

import { fetchMock } from "@/test/api";

import { ApiError } from "@/lib/api/errors";
import type { ActivityPage, Campaign, CampaignStatus } from "@/lib/api/types";
import type { Scope } from "@/lib/scopes";
import { key, signIn } from "@/test/me";
import { renderWithQueries } from "@/test/render";

import { CampaignDetail } from "./CampaignDetail";
import { rescheduleFailure, sendNowFailure } from "./ScheduledCard";

const ID = "0190c7c4-0000-7000-8000-000000000031";
/** 23:00 on Monday 30 November 2026 in Madrid. */
const NOW = Date.parse("2026-11-30T22:00:00Z");
const SENDER: Scope[] = ["campaigns:read", "campaigns:send"];
const CREATOR: Scope[] = ["campaigns:read", "campaigns:create"];
const NO_ACTIVITY: ActivityPage = { items: [], page: 1, perPage: 10, total: 0, totalPages: 0 };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function campaign(status: CampaignStatus, overrides: Partial<Campaign> = {}): Campaign {
  return {
    id: ID,
    subject: "Winter sale",
    status,
    totalEmails: 3,
    sentEmails: 0,
    failedEmails: 0,
    pendingEmails: 3,
    cancelledEmails: 0,
    suppressedEmails: 0,
    progress: 0,
    duplicatesRemoved: 0,
    mergeTags: false,
    createdAt: "2026-11-30T21:00:00Z",
    updatedAt: "2026-11-30T21:00:00Z",
    startedAt: null,
    completedAt: null,
    // 09:00 on Monday 7 December in Madrid.
    scheduledAt: "2026-12-07T08:00:00Z",
    stopReason: null,
    ...overrides,
  };
}

async function advance(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

/** A campaign page whose campaign is `current()`, and whose moves `onMove` answers. */
function serve(current: () => Campaign, onMove: (move: string, request: Request) => Response) {
  fetchMock.mockImplementation(async (request) => {
    const url = new URL(request.url);
    if (request.method === "POST") return onMove(url.pathname.split("/").pop()!, request);
    if (url.pathname.endsWith("/activity")) return json(200, NO_ACTIVITY);
    if (url.pathname.endsWith("/recipients")) {
      return json(200, { items: [], page: 1, perPage: 50, total: 0, totalPages: 0 });
    }
    if (url.pathname.endsWith("/timeline")) return json(200, { bucketSeconds: 1, points: [] });
    return json(200, current());
  });
}

function posts(): string[] {
  return fetchMock.mock.calls
    .map(([r]) => r)
    .filter((r) => r.method === "POST")
    .map((r) => new URL(r.url).pathname.split("/").pop()!);
}

async function renderPage(scopes: Scope[]) {
  const result = renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
    signIn(c, key("someone", scopes)),
  );
  await advance(0);
  return result;
}

function card() {
  return screen.getByRole("region", { name: /^Scheduled for / });
}

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"],
  });
  vi.setSystemTime(NOW);
  fetchMock.mockReset();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe("a scheduled campaign's page", () => {
  it("says when it goes out, in the browser's time zone, with its controls for a key that may send", async () => {
    serve(() => campaign("SCHEDULED"), () => json(500, {}));
    await renderPage(SENDER);
    expect(screen.getByText("Scheduled", { selector: "[data-status]" })).toBeTruthy();
    expect(card().querySelector("h2")?.textContent).toMatch(
      /^Scheduled for Dec 7, 2026, 9:00\sAM \(Europe\/Madrid\)$/,
    );
    expect(card().querySelector("time")?.getAttribute("dateTime")).toBe("2026-12-07T08:00:00Z");
    expect(within(card()).getByRole("button", { name: "Send now" })).toBeTruthy();
    expect(within(card()).getByRole("button", { name: "Reschedule" })).toBeTruthy();
    // Cancelling is with the other controls, in the "Delivery" card.
    const delivery = screen.getByRole("region", { name: "Delivery" });
    expect(within(delivery).getByRole("button", { name: "Cancel campaign" })).toBeTruthy();
    expect(within(delivery).queryByRole("button", { name: "Pause" })).toBeNull();
    // How long until it starts, rather than a send rate.
    const startsIn = screen.getByText("Starts in").parentElement!;
    expect(within(startsIn).getByText("~6 d 10 h")).toBeTruthy();
  });

  it("shows a key that may not send the time, and no button", async () => {
    serve(() => campaign("SCHEDULED"), () => json(500, {}));
    await renderPage(CREATOR);
    expect(card().textContent).toContain("It goes out to its 3 recipients by itself at that time.");
    for (const name of ["Send now", "Reschedule", "Cancel campaign"]) {
      expect(screen.queryByRole("button", { name })).toBeNull();
    }
  });

  it("turns into the sending view by itself when its time comes", async () => {
    const at = NOW + 12_000;
    serve(
      () => {
        return Date.now() >= at
          ? campaign("PROCESSING", { startedAt: new Date(at).toISOString(), scheduledAt: new Date(at).toISOString() })
          : campaign("SCHEDULED", { scheduledAt: new Date(at).toISOString() });
      },
      () => json(500, {}),
    );
    await renderPage(CREATOR);
    // The campaign's reads, not its body's.
    let reads = 0;
    const countReads = () =>
      (reads = fetchMock.mock.calls.filter(([r]) => {
        const url = new URL(r.url);
        return url.pathname === `/api/emails/${ID}` && !url.searchParams.has("includeBody");
      }).length);
    countReads();
    expect(reads).toBe(1);
    expect(within(screen.getByText("Starts in").parentElement!).getByText("~12 s")).toBeTruthy();
    // Read again every 5 s while it waits...
    await advance(5000);
    countReads();
    expect(reads).toBe(2);
    expect(within(screen.getByText("Starts in").parentElement!).getByText("~7 s")).toBeTruthy();
    await advance(5000);
    countReads();
    expect(reads).toBe(3);
    expect(screen.getByText("Scheduled", { selector: "[data-status]" })).toBeTruthy();
    // ...and just after its time, 2 s later rather than 5.
    await advance(2800);
    countReads();
    expect(reads).toBe(4);
    expect(screen.getByText("Processing", { selector: "[data-status]" })).toBeTruthy();
    expect(screen.queryByRole("region", { name: /^Scheduled for / })).toBeNull();
    expect(screen.getByText("Live")).toBeTruthy();
  });

  it("puts focus on the Delivery card when it goes out while its picker is open", async () => {
    const at = new Date(NOW + 3000).toISOString();
    serve(
      () =>
        Date.now() >= Date.parse(at)
          ? campaign("PROCESSING", { startedAt: at, scheduledAt: at })
          : campaign("SCHEDULED", { scheduledAt: at }),
      () => json(500, {}),
    );
    await renderPage(SENDER);
    fireEvent.click(within(card()).getByRole("button", { name: "Reschedule" }));
    expect(document.activeElement).toBe(screen.getByLabelText("New send time"));
    await advance(3800);
    expect(screen.getByText("Processing", { selector: "[data-status]" })).toBeTruthy();
    expect(screen.queryByLabelText("New send time")).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("heading", { name: "Delivery" }));
  });

  it("leaves focus alone when it goes out while focus is elsewhere", async () => {
    const at = new Date(NOW + 3000).toISOString();
    serve(
      () =>
        Date.now() >= Date.parse(at)
          ? campaign("PROCESSING", { startedAt: at, scheduledAt: at })
          : campaign("SCHEDULED", { scheduledAt: at }),
      () => json(500, {}),
    );
    await renderPage(SENDER);
    const all = screen.getByRole("radio", { name: /^All/ });
    all.focus();
    await advance(3800);
    expect(screen.getByText("Processing", { selector: "[data-status]" })).toBeTruthy();
    expect(document.activeElement).toBe(all);
  });

  it("sends it now once confirmed: the card goes, focus goes to the Delivery card", async () => {
    let status: CampaignStatus = "SCHEDULED";
    serve(
      () => campaign(status),
      () => {
        status = "PENDING";
        return json(202, { ...campaign(status), jobId: ID, enqueued: true });
      },
    );
    await renderPage(SENDER);
    const sendNow = within(card()).getByRole("button", { name: "Send now" });
    fireEvent.click(sendNow);
    expect(
      screen.getByText("Send it to 3 recipients now, instead of at its time? This cannot be undone."),
    ).toBeTruthy();
    const keep = screen.getByRole("button", { name: "No, keep the time" });
    expect(document.activeElement).toBe(keep);
    // Taken back: nothing sent, focus back on the button.
    fireEvent.click(keep);
    expect(document.activeElement).toBe(within(card()).getByRole("button", { name: "Send now" }));
    expect(posts()).toEqual([]);

    fireEvent.click(within(card()).getByRole("button", { name: "Send now" }));
    fireEvent.click(screen.getByRole("button", { name: "Yes, send it now" }));
    await advance(0);
    await advance(0);
    expect(posts()).toEqual(["send"]);
    expect(screen.getByText("Pending", { selector: "[data-status]" })).toBeTruthy();
    expect(screen.queryByRole("region", { name: /^Scheduled for / })).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("heading", { name: "Delivery" }));
  });

  it("says it went out meanwhile when sending it now finds it sending (409)", async () => {
    let status: CampaignStatus = "SCHEDULED";
    serve(
      () => campaign(status),
      () => {
        status = "PROCESSING";
        return json(409, {
          error: {
            code: "invalid_state",
            message: "the campaign is PROCESSING, which does not allow this action",
            details: { status: "PROCESSING" },
          },
        });
      },
    );
    await renderPage(SENDER);
    fireEvent.click(within(card()).getByRole("button", { name: "Send now" }));
    fireEvent.click(screen.getByRole("button", { name: "Yes, send it now" }));
    await advance(0);
    await advance(0);
    // The page has read it again: it is sending; the card stays to say what happened.
    expect(screen.getByText("Processing", { selector: "[data-status]" })).toBeTruthy();
    expect(screen.queryByRole("region", { name: /^Scheduled for / })).toBeNull();
    const gone = screen.getByRole("region", { name: /^No longer scheduled for / });
    expect(within(gone).getByRole("alert").textContent).toBe(
      "This campaign is being sent already: its time came, or someone sent it.",
    );
    expect(within(gone).queryAllByRole("button")).toEqual([]);
    expect(document.activeElement).toBe(within(gone).getByRole("heading"));
  });

  it("reschedules it to a time picked in the browser's time zone", async () => {
    let scheduledAt = "2026-12-07T08:00:00Z";
    serve(
      () => campaign("SCHEDULED", { scheduledAt }),
      (_move, request) => {
        void request
          .clone()
          .json()
          .then((body: { scheduledAt: string }) => {
            scheduledAt = body.scheduledAt;
          });
        return json(200, campaign("SCHEDULED", { scheduledAt: "2026-12-08T09:30:00.000Z" }));
      },
    );
    await renderPage(SENDER);
    const reschedule = within(card()).getByRole("button", { name: "Reschedule" });
    fireEvent.click(reschedule);
    const picker = screen.getByLabelText("New send time") as HTMLInputElement;
    // It starts from the current time, as Madrid's clocks show it, and has focus.
    expect(picker.value).toBe("2026-12-07T09:00");
    expect(picker.min).toBe("2026-11-30T23:00");
    expect(picker.max).toBe("2027-11-30T23:00");
    expect(document.activeElement).toBe(picker);
    expect(
      document.getElementById(picker.getAttribute("aria-describedby")!)?.textContent,
    ).toBe("Times are in Europe/Madrid (your browser's time zone). At most a year ahead.");

    fireEvent.change(picker, { target: { value: "2026-12-08T10:30" } });
    fireEvent.click(screen.getByRole("button", { name: "Save new time" }));
    await advance(0);
    await advance(0);
    expect(posts()).toEqual(["reschedule"]);
    const post = fetchMock.mock.calls.find(([r]) => r.method === "POST")![0];
    expect(await post.clone().json()).toEqual({ scheduledAt: "2026-12-08T09:30:00.000Z" });
    expect(card().querySelector("h2")?.textContent).toMatch(
      /^Scheduled for Dec 8, 2026, 10:30\sAM \(Europe\/Madrid\)$/,
    );
    expect(screen.queryByLabelText("New send time")).toBeNull();
    expect(document.activeElement).toBe(within(card()).getByRole("button", { name: "Reschedule" }));
    expect(within(card()).getByRole("status").textContent).toMatch(
      /^Rescheduled for Dec 8, 2026, 10:30\sAM \(Europe\/Madrid\)\.$/,
    );
  });

  it("checks the new time before sending it, and shows the server's refusal on the picker", async () => {
    serve(
      () => campaign("SCHEDULED"),
      () =>
        json(422, {
          error: {
            code: "validation_failed",
            message: "the campaign has invalid fields",
            details: {
              fields: [{ field: "scheduledAt", message: "the time to send it must be in the future" }],
            },
          },
        }),
    );
    await renderPage(SENDER);
    fireEvent.click(within(card()).getByRole("button", { name: "Reschedule" }));
    const picker = screen.getByLabelText("New send time");
    const described = () =>
      picker
        .getAttribute("aria-describedby")!
        .split(" ")
        .map((id) => document.getElementById(id)?.textContent)
        .join(" ");

    fireEvent.change(picker, { target: { value: "2026-11-30T22:59" } });
    fireEvent.click(screen.getByRole("button", { name: "Save new time" }));
    expect(picker.getAttribute("aria-invalid")).toBe("true");
    expect(described()).toContain("The time to send it must be in the future.");
    fireEvent.change(picker, { target: { value: "2028-01-01T09:00" } });
    expect(picker.getAttribute("aria-invalid")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Save new time" }));
    expect(described()).toContain("The time to send it must be at most a year ahead");
    expect(posts()).toEqual([]);

    // Ahead here, but not by the time the server reads it.
    fireEvent.change(picker, { target: { value: "2026-11-30T23:00:01" } });
    fireEvent.click(screen.getByRole("button", { name: "Save new time" }));
    await advance(0);
    await advance(0);
    expect(posts()).toEqual(["reschedule"]);
    expect(picker.getAttribute("aria-invalid")).toBe("true");
    expect(described()).toContain("The time to send it must be in the future.");
    expect(document.activeElement).toBe(picker);
    expect(screen.queryByRole("alert")).toBeNull();

    // Escape puts it away, focus back on its button.
    fireEvent.keyDown(picker, { key: "Escape" });
    expect(screen.queryByLabelText("New send time")).toBeNull();
    expect(document.activeElement).toBe(within(card()).getByRole("button", { name: "Reschedule" }));
  });

  it("says the campaign moved on when rescheduling finds it cancelled (409), and reads it again", async () => {
    let status: CampaignStatus = "SCHEDULED";
    serve(
      () => campaign(status, status === "CANCELLED" ? { completedAt: "2026-11-30T21:59:00Z" } : {}),
      () => {
        status = "CANCELLED";
        return json(409, {
          error: {
            code: "invalid_state",
            message: "the campaign is CANCELLED, which does not allow this action",
            details: { status: "CANCELLED" },
          },
        });
      },
    );
    await renderPage(SENDER);
    fireEvent.click(within(card()).getByRole("button", { name: "Reschedule" }));
    fireEvent.change(screen.getByLabelText("New send time"), {
      target: { value: "2026-12-08T10:30" },
    });
    fireEvent.click(screen.getByRole("button", { name: "Save new time" }));
    await advance(0);
    await advance(0);
    expect(screen.getByText("Cancelled", { selector: "[data-status]" })).toBeTruthy();
    const gone = screen.getByRole("region", { name: /^No longer scheduled for / });
    expect(within(gone).getByRole("alert").textContent).toBe(
      "This campaign is no longer scheduled: it is cancelled now, so it can no longer be rescheduled.",
    );
    expect(screen.queryByLabelText("New send time")).toBeNull();
    expect(screen.queryByRole("button", { name: "Cancel campaign" })).toBeNull();
  });
});

describe("what a failed send or reschedule says", () => {
  const invalid = (status: string) =>
    new ApiError(409, "invalid_state", `the campaign is ${status}`, { status } as never);

  it("for sending it now", () => {
    expect(sendNowFailure(invalid("PENDING"))).toBe(
      "This campaign is being sent already: its time came, or someone sent it.",
    );
    expect(sendNowFailure(invalid("CANCELLED"))).toBe(
      "This campaign is no longer scheduled: it is cancelled now, so it cannot be sent from here.",
    );
    expect(sendNowFailure(new ApiError(403, "forbidden", "forbidden"))).toBe(
      "Your key may not send campaigns.",
    );
    expect(sendNowFailure(new ApiError(404, "not_found", "campaign not found"))).toBe(
      "This campaign no longer exists.",
    );
    expect(sendNowFailure(new ApiError(502, "api_unreachable", "bad gateway"))).toBe(
      "The Paloma API cannot be reached, so nothing was sent. Try again.",
    );
    expect(sendNowFailure(new Error("boom"))).toBe("The campaign could not be sent. Try again.");
  });

  it("for rescheduling it", () => {
    expect(rescheduleFailure(invalid("PROCESSING"))).toEqual({
      message:
        "This campaign is no longer scheduled: it is processing now, so it can no longer be rescheduled.",
    });
    expect(rescheduleFailure(invalid("DRAFT")).message).toMatch(/: it is a draft now,/);
    expect(rescheduleFailure(new ApiError(409, "invalid_state", "no details"))).toEqual({
      message: "This campaign is no longer scheduled, so it can no longer be rescheduled.",
    });
    expect(
      rescheduleFailure(
        new ApiError(422, "validation_failed", "the campaign has invalid fields", {
          fields: [{ field: "scheduledAt", message: "the time to send it must be at most a year ahead" }],
        } as never),
      ),
    ).toEqual({ field: "The time to send it must be at most a year ahead." });
    expect(rescheduleFailure(new ApiError(403, "forbidden", "forbidden"))).toEqual({
      message: "Your key may not reschedule campaigns.",
    });
    expect(rescheduleFailure(new ApiError(404, "not_found", "campaign not found"))).toEqual({
      message: "This campaign no longer exists.",
    });
    expect(rescheduleFailure(new ApiError(0, "network_error", "unreachable"))).toEqual({
      message: "The Paloma API cannot be reached, so the campaign was not rescheduled. Try again.",
    });
  });
});
