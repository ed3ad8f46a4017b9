import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Campaign, CampaignStatus } from "@/lib/api/types";

vi.mock("next/navigation", () => ({
  useRouter: () => ({ push: vi.fn(), replace: vi.fn(), prefetch: vi.fn() }),
}));

vi.mock("@/lib/api/client", async (importActual) =>
  (await import("@/test/api")).mockedApiClient(importActual),
);

import { fetchMock } from "@/test/api";

import type { Scope } from "@/lib/scopes";
import { key, signIn } from "@/test/me";
import { renderWithQueries } from "@/test/render";

import { CampaignActions } from "./CampaignActions";

const ID = "0190c7c4-0000-7000-8000-000000000019";
const SENDER: Scope[] = ["campaigns:read", "campaigns:send"];

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

function renderActions(c: Campaign, scopes: Scope[]) {
  return renderWithQueries(<CampaignActions campaign={c} />, (client) =>
    signIn(client, key("someone", scopes)),
  );
}

/** The test sends made, with their bodies. */
function posts(): Promise<{ url: string; body: unknown }[]> {
  return Promise.all(
    fetchMock.mock.calls
      .map(([request]) => request)
      .filter((request) => request.method === "POST")
      .map(async (request) => ({ url: request.url, body: await request.clone().json() })),
  );
}

function openPanel() {
  fireEvent.click(screen.getByRole("button", { name: "Send test" }));
  return screen.getByRole("form", { name: "Send a test" });
}

function typeAddresses(text: string) {
  fireEvent.change(screen.getByLabelText("Send to"), { target: { value: text } });
}

beforeEach(() => {
  fetchMock.mockReset();
  window.localStorage.clear();
});
afterEach(() => cleanup());

describe("Send test", () => {
  it("is offered on a campaign of any status only to a key that may send campaigns", () => {
    renderActions(campaign("DRAFT"), ["campaigns:read", "campaigns:create"]);
    expect(screen.getByRole("button", { name: "Duplicate" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Send test" })).toBeNull();
    cleanup();
    renderActions(campaign("COMPLETED"), SENDER);
    expect(screen.getByRole("button", { name: "Send test" }).getAttribute("aria-expanded")).toBe(
      "false",
    );
    openPanel();
    expect(screen.getByRole("button", { name: "Send test" }).getAttribute("aria-expanded")).toBe(
      "true",
    );
    expect(screen.getByText(/^Up to 5 addresses/)).toBeTruthy();
  });

  it("sends the typed addresses, split and trimmed, and shows each one's outcome", async () => {
    fetchMock.mockResolvedValue(
      json(200, {
        results: [
          { to: "me@example.org", status: "sent" },
          {
            to: "bounce@example.org",
            status: "failed",
            error: "550 5.1.1 <bounce@example.org>: mailbox unavailable",
          },
        ],
      }),
    );
    renderActions(campaign("DRAFT"), SENDER);
    openPanel();
    expect(document.activeElement).toBe(screen.getByLabelText("Send to"));
    typeAddresses("  me@example.org,\n bounce@example.org ; ");
    fireEvent.click(screen.getByRole("button", { name: "Send the test" }));

    const results = await screen.findByRole("list", { name: "Test results" });
    expect(await posts()).toEqual([
      {
        url: `http://paloma.test/api/emails/${ID}/test`,
        body: { to: ["me@example.org", "bounce@example.org"] },
      },
    ]);
    const items = within(results).getAllByRole("listitem");
    expect(items.map((item) => item.textContent)).toEqual([
      "Sentme@example.org",
      "Failedbounce@example.org550 5.1.1 <bounce@example.org>: mailbox unavailable",
    ]);
    const form = screen.getByRole("form", { name: "Send a test" });
    const status = within(form).getByRole("status");
    expect(status.getAttribute("aria-live")).toBe("polite");
    expect(status.contains(results)).toBe(true);
    expect(status.textContent).toContain("Sent to 1 of 2 addresses.");
    // Remembered for the next test.
    expect(window.localStorage.getItem("paloma.test-send.to")).toBe(
      "me@example.org,\n bounce@example.org ;",
    );
    cleanup();
    renderActions(campaign("DRAFT"), SENDER);
    openPanel();
    expect((screen.getByLabelText("Send to") as HTMLTextAreaElement).value).toBe(
      "me@example.org,\n bounce@example.org ;",
    );
  });

  it("says a worker is still sending it when the API answers 202", async () => {
    fetchMock.mockResolvedValue(
      json(202, { results: [{ to: "me@example.org", status: "sending" }] }),
    );
    renderActions(campaign("PROCESSING"), SENDER);
    const form = openPanel();
    typeAddresses("me@example.org");
    fireEvent.click(screen.getByRole("button", { name: "Send the test" }));
    const results = await screen.findByRole("list", { name: "Test results" });
    expect(within(results).getByRole("listitem").textContent).toBe("Sendingme@example.org");
    expect(within(form).getByRole("status").textContent).toContain("still sending it");
  });

  it("shows a 422's address errors next to the addresses, naming the address typed", async () => {
    fetchMock.mockResolvedValue(
      json(422, {
        error: {
          code: "validation_failed",
          message: "the campaign has invalid fields",
          details: {
            fields: [
              { field: "to", message: "address 1: the address is not a valid email address" },
            ],
            invalidRecipientCount: 0,
            invalidRecipients: [],
          },
        },
      }),
    );
    renderActions(campaign("DRAFT"), SENDER);
    openPanel();
    typeAddresses("me@example.org not-an-address");
    fireEvent.click(screen.getByRole("button", { name: "Send the test" }));
    const message = "not-an-address: the address is not a valid email address.";
    await screen.findByText(message);
    const field = screen.getByLabelText("Send to");
    expect(field.getAttribute("aria-invalid")).toBe("true");
    const described = (field.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .map((id) => document.getElementById(id)?.textContent);
    expect(described).toContain(message);
    expect(document.activeElement).toBe(field);
    expect(screen.queryByRole("list", { name: "Test results" })).toBeNull();
  });

  it("shows the API's message when no worker took the test (503)", async () => {
    fetchMock.mockResolvedValue(
      json(503, {
        error: {
          code: "service_unavailable",
          message:
            "no worker took the test message within 10 seconds (is paloma-worker running?); nothing was sent",
        },
      }),
    );
    renderActions(campaign("DRAFT"), SENDER);
    openPanel();
    typeAddresses("me@example.org");
    fireEvent.click(screen.getByRole("button", { name: "Send the test" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "No worker took the test message within 10 seconds (is paloma-worker running?); nothing was sent.",
    );
    // Nothing is remembered from a test that was not sent.
    expect(window.localStorage.getItem("paloma.test-send.to")).toBeNull();
  });

  it("refuses more than 5 addresses, or none, without asking the API", () => {
    renderActions(campaign("DRAFT"), SENDER);
    openPanel();
    typeAddresses("a@x.org b@x.org c@x.org d@x.org e@x.org f@x.org");
    fireEvent.click(screen.getByRole("button", { name: "Send the test" }));
    expect(screen.getByText("A test goes to at most 5 addresses; you entered 6.")).toBeTruthy();
    typeAddresses(" , ");
    fireEvent.click(screen.getByRole("button", { name: "Send the test" }));
    expect(screen.getByText("Enter at least one address.")).toBeTruthy();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("renders a personalised campaign for a recipient of its list, with their fields", async () => {
    fetchMock.mockImplementation(async (request) => {
      if (request.method === "GET") {
        const rows = [
          {
            id: "r1",
            email: "ann@example.org",
            name: "Ann",
            fields: { company: "Acme" },
            status: "PENDING",
            attempts: 0,
            updatedAt: "2026-03-01T09:30:00Z",
          },
        ];
        return json(200, { items: rows, page: 1, perPage: 50, total: 1, totalPages: 1 });
      }
      return json(200, { results: [{ to: "me@example.org", status: "sent" }] });
    });
    renderActions(campaign("DRAFT", { mergeTags: true }), SENDER);
    const form = openPanel();
    typeAddresses("me@example.org");
    const first = within(form).getByRole("radio", { name: "The campaign's first recipient" });
    expect(first).toHaveProperty("checked", true);
    fireEvent.click(within(form).getByRole("radio", { name: "Another recipient" }));
    await waitFor(() =>
      expect(form.querySelector("datalist option")?.getAttribute("value")).toBe("ann@example.org"),
    );
    fireEvent.change(screen.getByLabelText("Recipient's address"), {
      target: { value: "ANN@example.org" },
    });
    fireEvent.click(screen.getByRole("button", { name: "Send the test" }));
    await screen.findByRole("list", { name: "Test results" });
    expect((await posts()).map((p) => p.body)).toEqual([
      {
        to: ["me@example.org"],
        recipient: { email: "ann@example.org", name: "Ann", fields: { company: "Acme" } },
      },
    ]);
  });

  it("closes on Escape and gives the focus back to its button", async () => {
    renderActions(campaign("DRAFT"), SENDER);
    const form = openPanel();
    fireEvent.keyDown(screen.getByLabelText("Send to"), { key: "Escape" });
    expect(screen.queryByRole("form", { name: "Send a test" })).toBeNull();
    expect(form.isConnected).toBe(false);
    await waitFor(() =>
      expect(document.activeElement).toBe(screen.getByRole("button", { name: "Send test" })),
    );
  });
});
