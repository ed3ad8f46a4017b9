import { QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, fireEvent, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { ActivityPage, Campaign, CampaignStatus } from "@/lib/api/types";
import { formatCount } from "@/lib/format";

vi.mock("next/navigation", () => ({
  useRouter: () => ({ push: vi.fn(), replace: vi.fn(), prefetch: vi.fn() }),
}));

vi.mock("@/lib/api/client", async (importActual) =>
  (await import("@/test/api")).mockedApiClient(importActual),
);

import { fetchMock } from "@/test/api";

import { ApiError } from "@/lib/api/errors";
import type { Scope } from "@/lib/scopes";
import { key, signIn } from "@/test/me";
import { renderWithQueries } from "@/test/render";

import { CampaignControlsCard, allowedMoves, moveFailure } from "./CampaignControls";
import { CampaignDetail } from "./CampaignDetail";

const ID = "0190c7c4-0000-7000-8000-000000000003";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function campaign(status: CampaignStatus, overrides: Partial<Campaign> = {}): Campaign {
  return {
    id: ID,
    subject: "Autumn sale",
    status,
    totalEmails: 2000,
    sentEmails: 700,
    failedEmails: 66,
    pendingEmails: 1234,
    cancelledEmails: 0,
    suppressedEmails: 0,
    progress: 38.3,
    duplicatesRemoved: 0,
    mergeTags: false,
    createdAt: "2026-03-01T09:30:00Z",
    updatedAt: "2026-03-01T09:31:00Z",
    startedAt: status === "DRAFT" ? null : "2026-03-01T09:30:01Z",
    completedAt: null,
    ...overrides,
  };
}

const NO_ACTIVITY: ActivityPage = { items: [], page: 1, perPage: 10, total: 0, totalPages: 0 };
const SENDER: Scope[] = ["campaigns:read", "campaigns:send"];

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

function card(c: Campaign) {
  return (
    <CampaignControlsCard campaign={c} title="Delivery" headingId="delivery-heading">
      <p>Figures</p>
    </CampaignControlsCard>
  );
}

/** The card alone, for `campaign`, signed in with `scopes`; `update` shows it another campaign. */
function renderCard(c: Campaign, scopes: Scope[]) {
  const result = renderWithQueries(card(c), (client) => signIn(client, key("someone", scopes)));
  const update = (next: Campaign) =>
    result.rerender(<QueryClientProvider client={result.client}>{card(next)}</QueryClientProvider>);
  return { ...result, update };
}

/** The names of the control buttons shown, in order. */
function controls(): string[] {
  return screen
    .queryAllByRole("button")
    .map((b) => b.textContent ?? "")
    .filter((name) => ["Pause", "Resume", "Cancel campaign"].includes(name));
}

describe("which controls show", () => {
  it.each([
    ["DRAFT", ["Cancel campaign"]],
    ["SCHEDULED", ["Cancel campaign"]],
    ["PENDING", ["Pause", "Cancel campaign"]],
    ["PROCESSING", ["Pause", "Cancel campaign"]],
    ["PAUSED", ["Resume", "Cancel campaign"]],
    ["COMPLETED", []],
    ["FAILED", []],
    ["CANCELLED", []],
  ] as [CampaignStatus, string[]][])(
    "a %s campaign offers %j to a key that may send",
    (status, expected) => {
      renderCard(campaign(status), SENDER);
      expect(controls()).toEqual(expected);
      for (const name of expected) {
        expect(screen.getByRole("button", { name })).toBeTruthy();
      }
      if (expected.length > 0) {
        expect(screen.getByRole("group", { name: "Campaign controls" })).toBeTruthy();
      }
    },
  );

  it.each(["DRAFT", "SCHEDULED", "PENDING", "PROCESSING", "PAUSED"] as CampaignStatus[])(
    "a %s campaign offers nothing to a key that may not send",
    (status) => {
      renderCard(campaign(status), ["campaigns:read", "campaigns:create"]);
      expect(controls()).toEqual([]);
      expect(screen.queryByRole("group", { name: "Campaign controls" })).toBeNull();
    },
  );

  it("offers nothing until the key is known", () => {
    renderWithQueries(
      <CampaignControlsCard campaign={campaign("PROCESSING")} title="Delivery" headingId="d">
        <p>Figures</p>
      </CampaignControlsCard>,
    );
    expect(controls()).toEqual([]);
  });

  it("keeps the header a button's height with or without buttons, so nothing moves", () => {
    const { update } = renderCard(campaign("PROCESSING"), SENDER);
    const slot = () => screen.getByRole("heading", { name: "Delivery" }).nextElementSibling!;
    expect(slot().className).toContain("min-h-10");
    expect(within(slot() as HTMLElement).getAllByRole("button")).toHaveLength(2);
    update(campaign("COMPLETED"));
    expect(slot().className).toContain("min-h-10");
    expect(within(slot() as HTMLElement).queryAllByRole("button")).toHaveLength(0);
  });

  it("follows the API's rules for each move", () => {
    expect(allowedMoves("PROCESSING")).toEqual({ pause: true, resume: false, cancel: true });
    expect(allowedMoves("PAUSED")).toEqual({ pause: false, resume: true, cancel: true });
    expect(allowedMoves("DRAFT")).toEqual({ pause: false, resume: false, cancel: true });
    expect(allowedMoves("SCHEDULED")).toEqual({ pause: false, resume: false, cancel: true });
    expect(allowedMoves("CANCELLED")).toEqual({ pause: false, resume: false, cancel: false });
  });
});

describe("cancelling", () => {
  it("asks first, naming how many recipients will not be sent, and can be taken back", () => {
    renderCard(campaign("PROCESSING"), SENDER);
    const cancel = screen.getByRole("button", { name: "Cancel campaign" });
    expect(cancel.getAttribute("aria-expanded")).toBe("false");
    fireEvent.click(cancel);
    const question =
      `Cancel this campaign? ${formatCount(1234)} recipients will not be sent. ` +
      "This cannot be undone.";
    expect(screen.getByText(question)).toBeTruthy();
    expect(cancel.getAttribute("aria-expanded")).toBe("true");
    const yes = screen.getByRole("button", { name: "Yes, cancel it" });
    const no = screen.getByRole("button", { name: "No, keep it" });
    // Focus goes to the way out, which (like "yes") is described by the question.
    expect(document.activeElement).toBe(no);
    expect(document.getElementById(yes.getAttribute("aria-describedby")!)?.textContent).toBe(
      question,
    );
    expect(fetchMock).not.toHaveBeenCalled();

    fireEvent.click(no);
    expect(screen.queryByText(question)).toBeNull();
    expect(document.activeElement).toBe(cancel);
    expect(fetchMock).not.toHaveBeenCalled();

    // Escape closes it too.
    fireEvent.click(cancel);
    fireEvent.keyDown(screen.getByRole("button", { name: "No, keep it" }), { key: "Escape" });
    expect(screen.queryByRole("button", { name: "Yes, cancel it" })).toBeNull();
  });

  it("says one recipient in the singular, and none when nothing is waiting", () => {
    const { update } = renderCard(campaign("PAUSED", { pendingEmails: 1 }), SENDER);
    fireEvent.click(screen.getByRole("button", { name: "Cancel campaign" }));
    expect(screen.getByText(/^Cancel this campaign\? 1 recipient will not be sent\./)).toBeTruthy();
    // The count follows the campaign while the question is open.
    update(campaign("PROCESSING", { pendingEmails: 0 }));
    expect(
      screen.getByText(
        "Cancel this campaign? No recipient is waiting to be sent. This cannot be undone.",
      ),
    ).toBeTruthy();
  });
});

/** A campaign page whose campaign is `current()`, and whose moves `onMove` answers. */
function serve(current: () => Campaign, onMove: (move: string) => Response) {
  fetchMock.mockImplementation(async (request) => {
    const url = new URL(request.url);
    if (request.method === "POST") return onMove(url.pathname.split("/").pop()!);
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
    .map((r) => new URL(r.url).pathname);
}

describe("on the campaign page", () => {
  it("pauses and resumes with one button that keeps focus, reading the campaign again", async () => {
    let status: CampaignStatus = "PROCESSING";
    serve(
      () => campaign(status),
      (move) => {
        status = move === "pause" ? "PAUSED" : "PENDING";
        return json(move === "pause" ? 200 : 202, {
          ...campaign(status),
          enqueued: move === "resume",
          worker: move === "pause" ? "stopped" : null,
        });
      },
    );
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("admin", SENDER)),
    );
    await advance(0);
    const toggle = screen.getByRole("button", { name: "Pause" });
    toggle.focus();
    fireEvent.click(toggle);
    expect(toggle.getAttribute("aria-disabled")).toBe("true");
    await advance(0);
    await advance(0);
    expect(posts()).toEqual([`/api/emails/${ID}/pause`]);
    expect(screen.getByText("Paused", { selector: "[data-status]" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Resume" })).toBe(toggle);
    expect(toggle.getAttribute("aria-disabled")).toBeNull();
    expect(document.activeElement).toBe(toggle);
    // Said to screen readers (the badge shows it).
    expect(screen.getByText("The campaign is paused.").getAttribute("role")).toBe("status");
    expect(screen.queryByRole("alert")).toBeNull();

    fireEvent.click(toggle);
    await advance(0);
    await advance(0);
    expect(posts()).toEqual([`/api/emails/${ID}/pause`, `/api/emails/${ID}/resume`]);
    expect(screen.getByText("Pending", { selector: "[data-status]" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Pause" })).toBe(toggle);
  });

  it("cancels once confirmed: no control is left, focus goes to the card's heading", async () => {
    let status: CampaignStatus = "PAUSED";
    const current = () =>
      status === "CANCELLED"
        ? campaign(status, {
            pendingEmails: 0,
            cancelledEmails: 1234,
            progress: 100,
            completedAt: "2026-03-01T09:40:00Z",
          })
        : campaign(status);
    serve(current, () => {
      status = "CANCELLED";
      return json(200, { ...current(), enqueued: false, worker: "not_sending" });
    });
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("admin", SENDER)),
    );
    await advance(0);
    fireEvent.click(screen.getByRole("button", { name: "Cancel campaign" }));
    fireEvent.click(screen.getByRole("button", { name: "Yes, cancel it" }));
    await advance(0);
    await advance(0);
    expect(posts()).toEqual([`/api/emails/${ID}/cancel`]);
    expect(screen.getByText("Cancelled", { selector: "[data-status]" })).toBeTruthy();
    expect(controls()).toEqual([]);
    expect(screen.queryByRole("button", { name: "Yes, cancel it" })).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("heading", { name: "Delivery" }));
    expect(screen.getByText(formatCount(1234), { selector: "dd" })).toBeTruthy();

    // The messages in flight when it was cancelled settle a moment later: read once more.
    const reads = () =>
      fetchMock.mock.calls.filter(([r]) => r.method === "GET" && r.url.endsWith(`/emails/${ID}`))
        .length;
    const before = reads();
    await advance(3000);
    expect(reads()).toBe(before + 1);
  });

  it("says the campaign moved on, and what it is now, when the API answers 409", async () => {
    let status: CampaignStatus = "PROCESSING";
    serve(
      () => campaign(status),
      () => {
        status = "COMPLETED";
        return json(409, {
          error: {
            code: "invalid_state",
            message: "the campaign is COMPLETED",
            details: { status: "COMPLETED" },
          },
        });
      },
    );
    renderWithQueries(<CampaignDetail id={ID} filter="all" page={1} />, (c) =>
      signIn(c, key("admin", SENDER)),
    );
    await advance(0);
    fireEvent.click(screen.getByRole("button", { name: "Pause" }));
    await advance(0);
    await advance(0);
    expect(screen.getByRole("alert").textContent).toBe(
      "This campaign has moved on meanwhile: it is completed now, so it can no longer be paused.",
    );
    // The page has read it again: completed, nothing left to control.
    expect(screen.getByText("Completed", { selector: "[data-status]" })).toBeTruthy();
    expect(controls()).toEqual([]);
  });
});

describe("what a failed move says", () => {
  const invalid = (status: string) =>
    new ApiError(409, "invalid_state", "the campaign is " + status, { status } as never);

  it("names the status a 409 found, or that someone made the same move first", () => {
    expect(moveFailure("resume", invalid("CANCELLED"))).toBe(
      "This campaign has moved on meanwhile: it is cancelled now, so it can no longer be resumed.",
    );
    expect(moveFailure("cancel", invalid("DRAFT"))).toBe(
      "This campaign has moved on meanwhile: it is a draft now, so it can no longer be cancelled.",
    );
    expect(moveFailure("pause", invalid("PAUSED"))).toBe(
      "Someone has paused this campaign already.",
    );
    expect(moveFailure("resume", invalid("PROCESSING"))).toBe(
      "Someone has resumed this campaign already.",
    );
    expect(moveFailure("pause", invalid("SCHEDULED"))).toBe(
      "This campaign has moved on meanwhile: it is scheduled now, so it can no longer be paused.",
    );
    expect(moveFailure("cancel", new ApiError(409, "invalid_state", "no details"))).toBe(
      "This campaign has moved on meanwhile, so it can no longer be cancelled.",
    );
  });

  it("says what else went wrong", () => {
    expect(moveFailure("pause", new ApiError(403, "forbidden", "forbidden"))).toBe(
      "Your key may not pause campaigns.",
    );
    expect(moveFailure("cancel", new ApiError(404, "not_found", "campaign not found"))).toBe(
      "This campaign no longer exists.",
    );
    expect(moveFailure("resume", new ApiError(0, "network_error", "unreachable"))).toBe(
      "The Paloma API cannot be reached, so the campaign was not resumed. Try again.",
    );
    expect(moveFailure("pause", new ApiError(502, "api_unreachable", "bad gateway"))).toBe(
      "The Paloma API cannot be reached, so the campaign was not paused. Try again.",
    );
    expect(moveFailure("pause", new Error("boom"))).toBe(
      "The campaign could not be paused. Try again.",
    );
  });
});
