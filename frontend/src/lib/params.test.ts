import { describe, expect, it } from "vitest";

import {
  campaignListHref,
  filterStatus,
  parseCampaignListFilter,
  parseRecipientFilter,
} from "./params";

describe("the recipients filter in the URL", () => {
  it("reads every recipient status, cancelled included, and asks the API for it", () => {
    expect(parseRecipientFilter("Cancelled")).toBe("cancelled");
    expect(filterStatus(parseRecipientFilter("cancelled"))).toBe("CANCELLED");
    expect(filterStatus(parseRecipientFilter("failed"))).toBe("FAILED");
    expect(parseRecipientFilter("paused")).toBe("all");
    expect(filterStatus("all")).toBeUndefined();
  });

  it("reads the suppressed filter and asks the API for SUPPRESSED recipients", () => {
    expect(parseRecipientFilter("suppressed")).toBe("suppressed");
    expect(parseRecipientFilter("SUPPRESSED")).toBe("suppressed");
    expect(filterStatus("suppressed")).toBe("SUPPRESSED");
  });
});

describe("the campaign list's filter in the URL", () => {
  it("reads a known status in any case and a trimmed search, and leaves out the rest", () => {
    expect(parseCampaignListFilter("draft", "  news ")).toEqual({ status: "DRAFT", q: "news" });
    expect(parseCampaignListFilter(["completed", "failed"], undefined)).toEqual({
      status: "COMPLETED",
    });
    expect(parseCampaignListFilter("paused", undefined)).toEqual({ status: "PAUSED" });
    expect(parseCampaignListFilter("scheduled", undefined)).toEqual({ status: "SCHEDULED" });
    expect(parseCampaignListFilter("Cancelled", undefined)).toEqual({ status: "CANCELLED" });
    expect(parseCampaignListFilter("sent", "   ")).toEqual({});
    expect(parseCampaignListFilter(undefined, "a\u0007b")).toEqual({});
    expect(parseCampaignListFilter(undefined, "x".repeat(256))).toEqual({});
  });

  it("writes the filter and the page back, leaving out what is empty", () => {
    expect(campaignListHref({})).toBe("/");
    expect(campaignListHref({}, 2)).toBe("/?page=2");
    expect(campaignListHref({ status: "FAILED", q: "50% off" }, 3)).toBe(
      "/?status=failed&q=50%25+off&page=3",
    );
    const back = new URL(`http://dash.test${campaignListHref({ status: "DRAFT", q: "a&b" })}`);
    expect(
      parseCampaignListFilter(
        back.searchParams.get("status") ?? undefined,
        back.searchParams.get("q") ?? undefined,
      ),
    ).toEqual({ status: "DRAFT", q: "a&b" });
  });
});
