import { describe, expect, it } from "vitest";

import { actionLabel } from "./activity";

describe("actionLabel", () => {
  it("says what happened in words", () => {
    expect(actionLabel("campaign.created")).toBe("Created");
    expect(actionLabel("campaign.sent")).toBe("Sent");
    expect(actionLabel("campaign.scheduled")).toBe("Scheduled");
    expect(actionLabel("key.revoked")).toBe("Key revoked");
    expect(actionLabel("campaign.paused")).toBe("Paused");
    expect(actionLabel("campaign.resumed")).toBe("Resumed");
    expect(actionLabel("campaign.cancelled")).toBe("Cancelled");
    // An action added to the API later shows as it is rather than not at all.
    expect(actionLabel("campaign.archived")).toBe("campaign.archived");
  });
});
