import { describe, expect, it } from "vitest";

import { key } from "@/test/me";

import { can } from "./scopes";

describe("can", () => {
  it("is true for the key's scopes only, and false while the key is not known", () => {
    const creator = key("creator", ["campaigns:read", "campaigns:create"]);
    expect(can(creator, "campaigns:create")).toBe(true);
    expect(can(creator, "campaigns:send")).toBe(false);
    expect(can(undefined, "campaigns:read")).toBe(false);
  });
});
