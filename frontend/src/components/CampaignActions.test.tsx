import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Campaign, CampaignStatus } from "@/lib/api/types";

const { push } = vi.hoisted(() => ({
  push: vi.fn(),
}));

vi.mock("next/navigation", () => ({
  useRouter: () => ({ push, replace: vi.fn(), prefetch: vi.fn() }),
}));

vi.mock("@/lib/api/client", async (importActual) =>
  (await import("@/test/api")).mockedApiClient(importActual),
);

import { fetchMock } from "@/test/api";

import type { Scope } from "@/lib/scopes";
import { key, signIn } from "@/test/me";
import { renderWithQueries } from "@/test/render";

import { CampaignActions } from "./CampaignActions";

const ID = "0190c7c4-0000-7000-8000-000000000009";
const NEW_ID = "0190c7c4-0000-7000-8000-00000000000a";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function campaign(status: CampaignStatus, overrides: Partial<Campaign> = {}): Campaign {
  return {
    id: ID,
    subject: "Spring news",
    status,
    totalEmails: 2,
    sentEmails: 0,
    failedEmails: 0,
    pendingEmails: 2,
    cancelledEmails: 0,
    suppressedEmails: 0,
    progress: 0,
    duplicatesRemoved: 0,
    mergeTags: false,
    createdAt: "2026-03-01T09:30:00Z",
    updatedAt: "2026-03-01T09:31:00Z",
    startedAt: null,
    completedAt: null,
    ...overrides,
  };
}

const ROWS = [
  { id: "r1", email: "ann@example.org", name: "Ann", status: "PENDING", attempts: 0, updatedAt: "2026-03-01T09:30:00Z" },
  { id: "r2", email: "bob@example.org", name: null, status: "PENDING", attempts: 0, updatedAt: "2026-03-01T09:30:00Z" },
];

const CREATOR: Scope[] = ["campaigns:read", "campaigns:create"];

function renderActions(c: Campaign, scopes: Scope[]) {
  return renderWithQueries(<CampaignActions campaign={c} />, (client) =>
    signIn(client, key("someone", scopes)),
  );
}

beforeEach(() => {
  fetchMock.mockReset();
  push.mockReset();
});
afterEach(() => cleanup());

describe("which actions show", () => {
  it("offers Edit on a draft to a key that may create, and on a scheduled one only if it may send too", () => {
    renderActions(campaign("DRAFT"), CREATOR);
    expect(screen.getByRole("button", { name: "Edit" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Duplicate" })).toBeTruthy();
    cleanup();
    renderActions(campaign("SCHEDULED"), CREATOR);
    expect(screen.queryByRole("button", { name: "Edit" })).toBeNull();
    cleanup();
    renderActions(campaign("SCHEDULED"), [...CREATOR, "campaigns:send"]);
    expect(screen.getByRole("button", { name: "Edit" })).toBeTruthy();
    cleanup();
    renderActions(campaign("COMPLETED"), CREATOR);
    expect(screen.queryByRole("button", { name: "Edit" })).toBeNull();
    expect(screen.getByRole("button", { name: "Duplicate" })).toBeTruthy();
    cleanup();
    // A key that may send but not create: only "Send test" (see TestSendPanel.test.tsx).
    renderActions(campaign("DRAFT"), ["campaigns:read", "campaigns:send"]);
    expect(screen.getAllByRole("button").map((b) => b.textContent)).toEqual(["Send test"]);
    cleanup();
    renderActions(campaign("DRAFT"), ["campaigns:read"]);
    expect(screen.queryByRole("button")).toBeNull();
  });
});

describe("Edit", () => {
  it("loads the campaign into the form and sends only what changed", async () => {
    const patches: unknown[] = [];
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (request.method === "PATCH") {
        patches.push(await request.json());
        return json(200, { ...campaign("DRAFT"), subject: "Spring news!" });
      }
      if (url.pathname.endsWith("/recipients")) {
        return json(200, { items: ROWS, page: 1, perPage: 200, total: 2, totalPages: 1 });
      }
      return json(200, { ...campaign("DRAFT"), body: "<p>Hi</p>" });
    });
    renderActions(campaign("DRAFT"), CREATOR);
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    const subject = (await screen.findByLabelText("Subject")) as HTMLInputElement;
    expect(subject.value).toBe("Spring news");
    const recipients = screen.getByLabelText("Recipients", { exact: true }) as HTMLTextAreaElement;
    expect(recipients.value).toBe("Ann <ann@example.org>\nbob@example.org");
    expect((screen.getByLabelText("HTML body") as HTMLTextAreaElement).value).toBe("<p>Hi</p>");
    const recipientsCall = fetchMock.mock.calls.find(([r]) => r.url.includes("/recipients"));
    expect(new URL(recipientsCall![0].url).searchParams.get("perPage")).toBe("200");

    fireEvent.change(subject, { target: { value: "Spring news!" } });
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(screen.queryByLabelText("Subject")).toBeNull());
    expect(patches).toEqual([{ subject: "Spring news!" }]);
    expect(screen.getByRole("status").textContent).toBe("The changes are saved.");
  });

  it("says a campaign that started sending can no longer be edited", async () => {
    fetchMock.mockImplementation(async (request) => {
      const url = new URL(request.url);
      if (request.method === "PATCH") {
        return json(409, {
          error: { code: "invalid_state", message: "not editable", details: { status: "PROCESSING" } },
        });
      }
      if (url.pathname.endsWith("/recipients")) {
        return json(200, { items: ROWS, page: 1, perPage: 200, total: 2, totalPages: 1 });
      }
      return json(200, { ...campaign("DRAFT"), body: "<p>Hi</p>" });
    });
    renderActions(campaign("DRAFT"), CREATOR);
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    const subject = await screen.findByLabelText("Subject");
    fireEvent.change(subject, { target: { value: "Other" } });
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "This campaign has started sending; it can no longer be edited.",
    );
  });
});

describe("Duplicate", () => {
  it("offers the failed recipients with their count and opens the new draft", async () => {
    let sent: unknown;
    fetchMock.mockImplementation(async (request) => {
      sent = await request.json();
      return json(201, { ...campaign("DRAFT"), id: NEW_ID });
    });
    renderActions(
      campaign("COMPLETED", { totalEmails: 42, sentEmails: 5, failedEmails: 37, pendingEmails: 0 }),
      CREATOR,
    );
    fireEvent.click(screen.getByRole("button", { name: "Duplicate" }));
    expect(screen.getByRole("radio", { name: "All recipients (42 recipients)" })).toBeTruthy();
    fireEvent.click(screen.getByRole("radio", { name: "Only the failed (37 recipients)" }));
    fireEvent.click(screen.getByRole("button", { name: "Create the draft" }));
    await waitFor(() => expect(push).toHaveBeenCalledWith(`/campaigns/${NEW_ID}`));
    expect(sent).toEqual({ recipients: "failed" });
  });

  it("says so when no recipient matches", async () => {
    fetchMock.mockResolvedValue(
      json(409, {
        error: {
          code: "invalid_state",
          message: "the campaign is COMPLETED and has no recipients in that state to copy",
          details: { status: "COMPLETED" },
        },
      }),
    );
    renderActions(
      campaign("COMPLETED", { totalEmails: 42, sentEmails: 5, failedEmails: 37, pendingEmails: 0 }),
      CREATOR,
    );
    fireEvent.click(screen.getByRole("button", { name: "Duplicate" }));
    fireEvent.click(screen.getByRole("radio", { name: "Only the failed (37 recipients)" }));
    fireEvent.click(screen.getByRole("button", { name: "Create the draft" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "No recipient of this campaign has failed, so there is nothing to duplicate.",
    );
    expect(push).not.toHaveBeenCalled();
  });
});
