import { cleanup, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { key, signIn } from "@/test/me";
import { renderWithQueries } from "@/test/render";

import { NewCampaign } from "./NewCampaign";

vi.mock("next/navigation", () => ({
  useRouter: () => ({ push: vi.fn(), replace: vi.fn(), prefetch: vi.fn() }),
}));

afterEach(cleanup);

describe("NewCampaign", () => {
  it("offers to send, or to save a draft, to a key that may send", () => {
    renderWithQueries(<NewCampaign />, (c) =>
      signIn(c, key("admin", ["campaigns:read", "campaigns:create", "campaigns:send"])),
    );
    expect(screen.getByRole("button", { name: "Send campaign" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Save as draft" })).toBeTruthy();
  });

  it("offers only a draft to a key that may create but not send", () => {
    renderWithQueries(<NewCampaign />, (c) =>
      signIn(c, key("creator", ["campaigns:read", "campaigns:create"])),
    );
    expect(screen.queryByRole("button", { name: "Send campaign" })).toBeNull();
    expect(screen.getByRole("button", { name: "Save as draft" })).toBeTruthy();
    expect(screen.getByText(/will be saved as a draft/)).toBeTruthy();
  });

  it("shows no form to a key that may not create campaigns", () => {
    renderWithQueries(<NewCampaign />, (c) => signIn(c, key("sender", ["campaigns:send"])));
    expect(screen.getByRole("heading", { name: "Your key may not create campaigns" })).toBeTruthy();
    expect(screen.queryByLabelText("Subject")).toBeNull();
  });
});
