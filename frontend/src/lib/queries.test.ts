import { describe, expect, it } from "vitest";

import {
  POLL_INTERVAL_MS,
  PAUSED_POLL_INTERVAL_MS,
  campaignPollInterval,
  phaseOf,
  queries,
  recipientsQuery,
  timelineQuery,
} from "./queries";

describe("the phases of a campaign's reads", () => {
  it("follow its status", () => {
    expect(phaseOf("DRAFT")).toBe("draft");
    expect(phaseOf("PENDING")).toBe("live");
    expect(phaseOf("PROCESSING")).toBe("live");
    expect(phaseOf("PAUSED")).toBe("paused");
    expect(phaseOf("COMPLETED")).toBe("final");
    expect(phaseOf("FAILED")).toBe("final");
    expect(phaseOf("CANCELLED")).toBe("final");
  });

  it("key each phase apart, so that a draft's empty chart is not taken for the final one", () => {
    const keys = (["draft", "live", "paused", "final"] as const).map((phase) =>
      JSON.stringify(timelineQuery(queries(), "c", phase).queryKey),
    );
    expect(new Set(keys).size).toBe(4);
    const recipients = (["draft", "final"] as const).map((phase) =>
      JSON.stringify(recipientsQuery(queries(), "c", "all", 1, phase).queryKey),
    );
    expect(recipients[0]).not.toBe(recipients[1]);
  });
});

describe("how often a campaign is read again", () => {
  it("while it sends, more slowly while it is paused, and never once it is a draft or final", () => {
    expect(campaignPollInterval("PENDING")).toBe(POLL_INTERVAL_MS);
    expect(campaignPollInterval("PROCESSING")).toBe(POLL_INTERVAL_MS);
    expect(campaignPollInterval("PAUSED")).toBe(PAUSED_POLL_INTERVAL_MS);
    for (const status of ["DRAFT", "COMPLETED", "FAILED", "CANCELLED"] as const) {
      expect(campaignPollInterval(status)).toBe(false);
    }
  });
});
