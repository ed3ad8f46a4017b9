import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("next/navigation", () => ({
  useRouter: () => ({ push: vi.fn(), replace: vi.fn(), prefetch: vi.fn() }),
}));

vi.mock("@/lib/api/client", async (importActual) =>
  (await import("@/test/api")).mockedApiClient(importActual),
);

import { fetchMock } from "@/test/api";

import type { SuppressionPage } from "@/lib/api/types";
import type { Scope } from "@/lib/scopes";
import { key, signIn } from "@/test/me";
import { renderWithQueries } from "@/test/render";

import { SuppressionList, parseAddresses, suppressionsHref } from "./SuppressionList";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

const PAGE: SuppressionPage = {
  items: [
    {
      email: "ada@example.org",
      reason: "UNSUBSCRIBED",
      campaignId: "0190c7c4-0000-7000-8000-000000000031",
      createdAt: "2026-12-01T10:00:00Z",
    },
    { email: "grace@example.org", reason: "MANUAL", campaignId: null, createdAt: "2026-12-01T09:00:00Z" },
  ],
  page: 1,
  perPage: 50,
  total: 2,
  totalPages: 1,
};

function render(scopes: Scope[]) {
  return renderWithQueries(<SuppressionList page={1} />, (client) =>
    signIn(client, key("someone", scopes)),
  );
}

describe("SuppressionList", () => {
  beforeEach(() => {
    fetchMock.mockReset();
  });
  afterEach(() => cleanup());

  it("splits addresses on lines and commas and builds its URLs", () => {
    expect(parseAddresses(" a@x.org\nb@x.org, c@x.org ;\n\n")).toEqual([
      "a@x.org",
      "b@x.org",
      "c@x.org",
    ]);
    expect(suppressionsHref(undefined)).toBe("/suppressions");
    expect(suppressionsHref("ada", 2)).toBe("/suppressions?search=ada&page=2");
  });

  it("lists addresses to a reader without the actions that change the list", async () => {
    fetchMock.mockResolvedValue(json(200, PAGE));
    render(["campaigns:read"]);
    expect(await screen.findByText("ada@example.org")).toBeTruthy();
    expect(screen.getByText("Unsubscribed")).toBeTruthy();
    expect(screen.getByText("Added by hand")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Remove" })).toBeNull();
    expect(screen.queryByLabelText("Add addresses")).toBeNull();
  });

  it("adds addresses for a key that may send, and says what it did", async () => {
    fetchMock.mockImplementation(async (request) => {
      if (request.method === "POST") {
        expect(await request.json()).toEqual({ emails: ["new@example.org", "ada@example.org"] });
        return json(200, { added: 1, alreadySuppressed: 1 });
      }
      return json(200, PAGE);
    });
    render(["campaigns:read", "campaigns:send"]);
    fireEvent.change(await screen.findByLabelText("Add addresses"), {
      target: { value: "new@example.org, ada@example.org" },
    });
    fireEvent.click(screen.getByRole("button", { name: "Add to the list" }));
    expect((await screen.findByRole("status")).textContent).toContain("1 address added");
  });

  it("names the invalid addresses when nothing was added", async () => {
    fetchMock.mockImplementation(async (request) =>
      request.method === "POST"
        ? json(422, {
            error: {
              code: "validation_failed",
              message: "the addresses are not all valid; nothing was added",
              details: {
                fields: [],
                invalidRecipients: [{ index: 1, value: "nope", reason: "not valid" }],
                invalidRecipientCount: 1,
              },
            },
          })
        : json(200, PAGE),
    );
    render(["campaigns:read", "campaigns:send"]);
    fireEvent.change(await screen.findByLabelText("Add addresses"), {
      target: { value: "ok@example.org\nnope" },
    });
    fireEvent.click(screen.getByRole("button", { name: "Add to the list" }));
    expect((await screen.findByRole("alert")).textContent).toContain("line 2 (nope)");
  });

  it("removes an address after a confirmation", async () => {
    const deleted: string[] = [];
    fetchMock.mockImplementation(async (request) => {
      if (request.method === "DELETE") {
        deleted.push(new URL(request.url).pathname);
        return new Response(null, { status: 204 });
      }
      return json(200, PAGE);
    });
    render(["campaigns:read", "campaigns:send"]);
    await screen.findByText("grace@example.org");
    fireEvent.click(screen.getAllByRole("button", { name: "Remove" })[1]!);
    expect(screen.getByText("grace@example.org may get messages again.")).toBeTruthy();
    expect(deleted).toEqual([]);
    fireEvent.click(screen.getByRole("button", { name: "Yes, remove" }));
    await waitFor(() => expect(deleted).toEqual(["/api/suppressions/grace%40example.org"]));
  });
});
