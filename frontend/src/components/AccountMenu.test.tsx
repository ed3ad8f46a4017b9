import { cleanup, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { key, signIn } from "@/test/me";
import { renderWithQueries } from "@/test/render";

import { AccountMenu } from "./AccountMenu";
import { NewCampaignLink } from "./NewCampaignLink";

vi.mock("@/lib/api/client", async (importActual) => {
  const actual = await importActual<typeof import("@/lib/api/client")>();
  const { ApiStatusStore } = await import("@/lib/api/status");
  // The key is in the cache already: nothing may be fetched.
  const client = actual.createPalomaClient({
    baseUrl: "http://paloma.test",
    fetch: () => Promise.reject(new Error("unexpected call")),
    status: new ApiStatusStore(),
  });
  return { ...actual, api: () => client };
});

afterEach(cleanup);

function header() {
  return (
    <>
      <NewCampaignLink />
      <AccountMenu />
    </>
  );
}

describe("the header", () => {
  it("names the key and offers to sign out with a POST to /sign-out", () => {
    renderWithQueries(header(), (c) =>
      signIn(c, key("ops-team", ["campaigns:read", "campaigns:create"])),
    );
    expect(screen.getByTestId("key-name").textContent).toBe("ops-team");
    const button = screen.getByRole("button", { name: "Sign out" });
    const form = button.closest("form")!;
    expect(form.getAttribute("action")).toBe("/sign-out");
    expect(form.getAttribute("method")).toBe("post");
  });

  it("offers New campaign to a key that may create campaigns", () => {
    renderWithQueries(header(), (c) => signIn(c, key("creator", ["campaigns:read", "campaigns:create"])));
    expect(screen.getByRole("link", { name: "New campaign" }).getAttribute("href")).toBe(
      "/campaigns/new",
    );
  });

  it("hides New campaign from a key without campaigns:create", () => {
    renderWithQueries(header(), (c) => signIn(c, key("reader", ["campaigns:read", "campaigns:send"])));
    expect(screen.queryByRole("link", { name: "New campaign" })).toBeNull();
    expect(screen.getByRole("button", { name: "Sign out" })).toBeTruthy();
  });
});
