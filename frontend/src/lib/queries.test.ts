import { describe, expect, it } from "vitest";

import type { Campaign, CampaignPage } from "./api/types";
import {
  LIST_SCHEDULED_POLL_INTERVAL_MS,
  POLL_INTERVAL_MS,
  PAUSED_POLL_INTERVAL_MS,
  SCHEDULED_POLL_INTERVAL_MS,
  SCHEDULED_START_GRACE_MS,
  campaignPagePollInterval,
  campaignPollInterval,
  phaseOf,
  queries,
  recipientsQuery,
  timelineQuery,
} from "./queries";

describe("the phases of a campaign's reads", () => {
  it("follow its status", () => {
    expect(phaseOf("DRAFT")).toBe("draft");
    // Nothing is sent before its time either.
    expect(phaseOf("SCHEDULED")).toBe("draft");
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

describe("how often a scheduled campaign is read again", () => {
  const now = Date.parse("2026-11-30T22:00:00Z");
  const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();

  it("every 5 s while its time is far, just after it once near, every 1.5 s once it has passed", () => {
    expect(campaignPollInterval("SCHEDULED", at(3600), now)).toBe(SCHEDULED_POLL_INTERVAL_MS);
    expect(campaignPollInterval("SCHEDULED", at(2), now)).toBe(2000 + SCHEDULED_START_GRACE_MS);
    expect(campaignPollInterval("SCHEDULED", at(-1), now)).toBe(POLL_INTERVAL_MS);
    expect(campaignPollInterval("SCHEDULED", null, now)).toBe(SCHEDULED_POLL_INTERVAL_MS);
  });

  it("in the list: just after the first one on the page is due, at most every 30 s", () => {
    const item = (status: Campaign["status"], scheduledAt: string | null) =>
      ({ status, scheduledAt }) as Campaign;
    const page = (items: Campaign[], active = 0): CampaignPage => ({
      items,
      page: 1,
      perPage: 20,
      total: items.length,
      totalPages: 1,
      active,
    });
    expect(campaignPagePollInterval(page([item("COMPLETED", at(-60))]), now)).toBe(false);
    expect(campaignPagePollInterval(page([item("SCHEDULED", at(86_400))]), now)).toBe(
      LIST_SCHEDULED_POLL_INTERVAL_MS,
    );
    expect(
      campaignPagePollInterval(
        page([item("SCHEDULED", at(86_400)), item("SCHEDULED", at(10)), item("DRAFT", at(1))]),
        now,
      ),
    ).toBe(10_000 + SCHEDULED_START_GRACE_MS);
    // A campaign sending anywhere keeps the list live.
    expect(campaignPagePollInterval(page([item("SCHEDULED", at(86_400))], 1), now)).toBe(
      POLL_INTERVAL_MS,
    );
  });
});
