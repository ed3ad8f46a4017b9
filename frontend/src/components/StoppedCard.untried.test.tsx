import { describe, expect, it } from "vitest";

import { waitingHint } from "./CampaignDetail";
import { untriedSummary } from "./StoppedCard";

describe("what a waiting or stopped campaign says", () => {
  it("names the campaigns before a waiting one", () => {
    expect(waitingHint(undefined)).toBe("Waiting for a worker");
    expect(waitingHint(null)).toBe("Waiting for a worker");
    expect(waitingHint(0)).toBe("Waiting for a worker");
    expect(waitingHint(1)).toBe("Queued behind 1 campaign");
    expect(waitingHint(1200)).toBe("Queued behind 1,200 campaigns");
  });

  it("counts a stopped campaign's untried recipients apart from the tried ones", () => {
    expect(untriedSummary(900, 951)).toBe("900 recipients were never tried; 51 failed when tried.");
    expect(untriedSummary(1, 1)).toBe("1 recipient was never tried; 0 failed when tried.");
  });
});
