import { describe, expect, it } from "vitest";

import { editRequest, type EditStart } from "@/components/new-campaign/use-edit-campaign";

import { ApiError } from "./api/errors";
import type { Campaign } from "./api/types";
import {
  duplicateChoices,
  duplicateFailure,
  editFailure,
  recipientLine,
  recipientsText,
} from "./campaign-edit";
import { parsePastedRecipients } from "./recipients";

function campaign(over: Partial<Campaign>): Campaign {
  return {
    id: "0190c7c4-0000-7000-8000-000000000002",
    subject: "Digest",
    status: "COMPLETED",
    totalEmails: 42,
    sentEmails: 40,
    failedEmails: 2,
    pendingEmails: 0,
    cancelledEmails: 0,
    suppressedEmails: 0,
    progress: 100,
    duplicatesRemoved: 0,
    mergeTags: false,
    createdAt: "2026-03-01T09:30:00Z",
    updatedAt: "2026-03-01T09:31:00Z",
    startedAt: null,
    completedAt: null,
    ...over,
  };
}

describe("recipientsText", () => {
  it("writes lines the recipients field reads back as they were", () => {
    const rows = [
      { email: "ann@example.org", name: "Ann" },
      { email: "bob@example.org", name: null },
      { email: "jane@example.org", name: "Doe, Jane" },
      { email: "q@example.org", name: 'Quote "Q" Person' },
    ];
    expect(recipientLine(rows[0]!)).toBe("Ann <ann@example.org>");
    expect(recipientLine(rows[1]!)).toBe("bob@example.org");
    expect(recipientLine(rows[2]!)).toBe('"Doe, Jane" <jane@example.org>');
    const back = parsePastedRecipients(recipientsText(rows)).map((c) => [c.email, c.name]);
    expect(back).toEqual([
      ["ann@example.org", "Ann"],
      ["bob@example.org", undefined],
      ["jane@example.org", "Doe, Jane"],
      ["q@example.org", 'Quote "Q" Person'],
    ]);
  });
});

describe("editRequest", () => {
  const start: EditStart = {
    subject: "Digest",
    body: "<p>x</p>",
    pasted: "ann@example.org\nbob@example.org",
    prefilled: true,
    scheduledAt: null,
    sendAt: "",
  };
  const fields = {
    subject: "Digest",
    body: "<p>x</p>",
    pasted: start.pasted,
    csv: null,
    sendAt: null,
    timeZone: "UTC",
  };
  const now = Date.parse("2026-03-01T10:00:00Z");

  it("sends only what changed", () => {
    expect(editRequest(start, fields, now)).toMatchObject({ ok: true, request: {} });
    expect(editRequest(start, { ...fields, subject: " New " }, now)).toMatchObject({
      ok: true,
      request: { subject: "New" },
    });
    expect(
      editRequest(start, { ...fields, pasted: "ann@example.org\nCid <cid@example.org>" }, now),
    ).toMatchObject({
      ok: true,
      request: { recipients: ["ann@example.org", { email: "cid@example.org", name: "Cid" }] },
    });
  });

  it("sets, moves and clears the send time", () => {
    expect(editRequest(start, { ...fields, sendAt: "2026-03-02T09:00" }, now)).toMatchObject({
      ok: true,
      request: { scheduledAt: "2026-03-02T09:00:00.000Z" },
    });
    const timed = { ...start, scheduledAt: "2026-03-02T09:00:00Z", sendAt: "2026-03-02T09:00" };
    expect(editRequest(timed, { ...fields, sendAt: "2026-03-02T09:00" }, now)).toMatchObject({
      ok: true,
      request: {},
    });
    expect(editRequest(timed, fields, now)).toMatchObject({ ok: true, request: { scheduledAt: null } });
    // A time that has passed is refused once changed, not when left as it was.
    expect(editRequest(start, { ...fields, sendAt: "2026-02-01T09:00" }, now)).toMatchObject({
      ok: false,
      errors: { scheduledAt: "The time to send it must be in the future." },
    });
    const passed = { ...start, scheduledAt: "2026-02-01T09:00:00Z", sendAt: "2026-02-01T09:00" };
    expect(editRequest(passed, { ...fields, sendAt: passed.sendAt }, now)).toMatchObject({
      ok: true,
      request: {},
    });
  });

  it("keeps a list too long to load while its field is left empty", () => {
    const long = { ...start, pasted: "", prefilled: false };
    expect(editRequest(long, { ...fields, pasted: "" }, now)).toMatchObject({ ok: true, request: {} });
    expect(editRequest(start, { ...fields, pasted: "" }, now)).toMatchObject({
      ok: false,
      errors: { recipients: "Add at least one valid recipient." },
    });
  });
});

describe("editFailure", () => {
  it("says a campaign that went out can no longer be edited", () => {
    const error = new ApiError(409, "invalid_state", "not editable", { status: "PROCESSING" });
    expect(editFailure(error).form).toBe(
      "This campaign has started sending; it can no longer be edited.",
    );
    const cancelled = new ApiError(409, "invalid_state", "not editable", { status: "CANCELLED" });
    expect(editFailure(cancelled).form).toBe("This campaign was cancelled; it can no longer be edited.");
  });

  it("puts a 422 on its fields, as at creation", () => {
    const error = new ApiError(422, "validation_failed", "invalid", {
      fields: [{ field: "subject", message: "must not be blank" }],
      invalidRecipientCount: 0,
      invalidRecipients: [],
    });
    expect(editFailure(error).fields).toEqual({ subject: "Must not be blank." });
  });
});

describe("duplicateChoices", () => {
  it("offers the failed and the unsent only when they are some but not all", () => {
    expect(duplicateChoices(campaign({})).map((c) => c.label)).toEqual([
      "All recipients (42 recipients)",
      "Only the failed (2 recipients)",
    ]);
    expect(
      duplicateChoices(
        campaign({ status: "CANCELLED", sentEmails: 30, failedEmails: 2, cancelledEmails: 10 }),
      ).map((c) => [c.which, c.count]),
    ).toEqual([
      ["all", 42],
      ["failed", 2],
      ["unsent", 12],
    ]);
    expect(
      duplicateChoices(
        campaign({ status: "DRAFT", sentEmails: 0, failedEmails: 0, pendingEmails: 42 }),
      ).map((c) => c.which),
    ).toEqual(["all"]);
  });
});

describe("duplicateFailure", () => {
  it("says when no recipient matches", () => {
    const none = new ApiError(409, "invalid_state", "no recipients in that state", {
      status: "COMPLETED",
    });
    expect(duplicateFailure("failed", none)).toBe(
      "No recipient of this campaign has failed, so there is nothing to duplicate.",
    );
    expect(duplicateFailure("unsent", none)).toMatch(/^Every recipient of this campaign was sent/);
    expect(duplicateFailure("all", new ApiError(403, "forbidden", "no"))).toBe(
      "Your key may not create campaigns.",
    );
  });
});
