import { describe, expect, it } from "vitest";

import { ApiError } from "./api/errors";
import type { RecipientRow } from "./api/types";
import { addressProblem, sampleRecipient, splitAddresses, testSendErrors } from "./test-send";

describe("splitAddresses", () => {
  it("splits on commas, semicolons, spaces and new lines, dropping blanks", () => {
    expect(splitAddresses(" a@x.org,b@x.org;\n\tc@x.org  d@x.org ,, ")).toEqual([
      "a@x.org",
      "b@x.org",
      "c@x.org",
      "d@x.org",
    ]);
    expect(splitAddresses(" \n ")).toEqual([]);
  });

  it("allows 1 to 5 addresses", () => {
    expect(addressProblem([])).toBe("Enter at least one address.");
    expect(addressProblem(["a@x.org"])).toBeNull();
    expect(addressProblem(Array.from({ length: 5 }, (_, i) => `${i}@x.org`))).toBeNull();
    expect(addressProblem(Array.from({ length: 6 }, (_, i) => `${i}@x.org`))).toBe(
      "A test goes to at most 5 addresses; you entered 6.",
    );
  });
});

describe("sampleRecipient", () => {
  const ann: RecipientRow = {
    id: "r1",
    email: "ann@example.org",
    name: "Ann",
    fields: { company: "Acme" },
    status: "SENT",
    attempts: 1,
    updatedAt: "2026-03-01T09:30:00Z",
  };
  const bob: RecipientRow = { ...ann, id: "r2", email: "bob@example.org", name: null, fields: {} };

  it("is left out when nothing is typed, the address alone when unknown, the row when known", () => {
    expect(sampleRecipient("  ", [ann])).toBeUndefined();
    expect(sampleRecipient(" zed@example.org ", [ann])).toBe("zed@example.org");
    expect(sampleRecipient("Ann@Example.org", [ann, bob])).toEqual({
      email: "ann@example.org",
      name: "Ann",
      fields: { company: "Acme" },
    });
    expect(sampleRecipient("bob@example.org", [ann, bob])).toEqual({ email: "bob@example.org" });
  });
});

describe("testSendErrors", () => {
  it("puts an invalid sample recipient under its field and other fields in the form", () => {
    const error = new ApiError(422, "validation_failed", "the campaign has invalid fields", {
      fields: [{ field: "body", message: "merge tags: unknown tag" }],
      invalidRecipientCount: 1,
      invalidRecipients: [{ index: 0, value: "zed@example.org", reason: "no value for company" }],
    });
    expect(testSendErrors(error, ["me@example.org"])).toEqual({
      recipient: "No value for company.",
      form: "Body: merge tags: unknown tag.",
    });
  });

  it("keeps an address error whose position names no typed address as the API wrote it", () => {
    const error = new ApiError(422, "validation_failed", "invalid", {
      fields: [{ field: "to", message: "address 7: not valid" }],
      invalidRecipientCount: 0,
      invalidRecipients: [],
    });
    expect(testSendErrors(error, ["a@x.org"])).toEqual({ to: "Address 7: not valid." });
  });

  it("says when the API cannot be reached or the key may not send", () => {
    expect(testSendErrors(new ApiError(502, "http_502", "bad gateway"), []).form).toBe(
      "The Paloma API cannot be reached, so nothing was sent. Try again in a moment.",
    );
    expect(testSendErrors(new ApiError(403, "forbidden", "no"), []).form).toBe(
      "Your key may not send campaigns, so nothing was sent.",
    );
  });
});
