import { afterEach, describe, expect, it, vi } from "vitest";

import {
  NO_SENDER,
  newIdempotencyKey,
  toCreateRequest,
  validateCampaignForm,
  validateSender,
} from "./campaign-form";

const ann = { email: "ann@example.org", name: "Ann", line: 1, source: "paste" as const };
const bob = { email: "bob@example.org", line: 2, source: "csv" as const };

describe("validateCampaignForm", () => {
  it("accepts a complete campaign", () => {
    expect(validateCampaignForm({ subject: "Hi", body: "<p>x</p>", recipients: [ann] })).toEqual({});
  });

  it("names each missing or invalid field as the API would", () => {
    expect(validateCampaignForm({ subject: "  ", body: " \n", recipients: [] })).toEqual({
      subject: "Enter a subject.",
      body: "Enter the HTML body of the email.",
      recipients: "Add at least one valid recipient.",
    });
    expect(validateCampaignForm({ subject: "a\nb", body: "x", recipients: [ann] }).subject).toMatch(
      /one line/,
    );
    expect(
      validateCampaignForm({ subject: "é".repeat(256), body: "x", recipients: [ann] }).subject,
    ).toBe("The subject is longer than 255 characters.");
    expect(
      validateCampaignForm({ subject: "é".repeat(255), body: "x", recipients: [ann] }).subject,
    ).toBeUndefined();
    expect(
      validateCampaignForm({ subject: "s", body: "x".repeat(2 * 1024 * 1024 + 1), recipients: [ann] })
        .body,
    ).toBe("The HTML body is larger than 2 MiB.");
  });
});

describe("validateSender", () => {
  it("accepts an empty sender, an address alone, or with a name and a Reply-To", () => {
    expect(validateSender(NO_SENDER)).toEqual({});
    expect(validateSender({ ...NO_SENDER, fromEmail: " news@example.org " })).toEqual({});
    expect(
      validateSender({ fromName: "The Acme team", fromEmail: "news@example.org", replyTo: "help@desk.example" }),
    ).toEqual({});
    // A Reply-To alone is fine: the server's own sender applies.
    expect(validateSender({ ...NO_SENDER, replyTo: "help@desk.example" })).toEqual({});
  });

  it("names each problem by the API's field, leaving the allowed domains to the server", () => {
    expect(validateSender({ ...NO_SENDER, fromName: "Acme" })).toEqual({
      "from.email": "Enter the From address that goes with this name.",
    });
    expect(validateSender({ fromName: "a\nb", fromEmail: "news@", replyTo: "no one" })).toEqual({
      "from.name": "The From name must be one line, without control characters.",
      "from.email": "The address is not a valid email address.",
      replyTo: "The address contains whitespace or control characters.",
    });
    expect(
      validateSender({ ...NO_SENDER, fromName: "x".repeat(201), fromEmail: "a@b.example" })["from.name"],
    ).toBe("The From name is longer than 200 characters.");
    expect(validateSender({ ...NO_SENDER, fromEmail: "news@elsewhere.example" })).toEqual({});
  });

  it("is part of the form's check when the form has a sender", () => {
    expect(
      validateCampaignForm({
        subject: "Hi",
        body: "x",
        recipients: [ann],
        sender: { ...NO_SENDER, replyTo: "@" },
      }),
    ).toEqual({ replyTo: "The address is not a valid email address." });
  });
});

describe("toCreateRequest", () => {
  it("sends from and replyTo only when filled, trimmed, the name only with one", () => {
    const values = { subject: "Hi", body: "x", recipients: [bob] };
    expect(toCreateRequest({ ...values, sender: NO_SENDER })).toEqual({
      subject: "Hi",
      body: "x",
      recipients: ["bob@example.org"],
    });
    expect(
      toCreateRequest({
        ...values,
        sender: { fromName: " Acme ", fromEmail: " news@example.org ", replyTo: " help@desk.example " },
      }),
    ).toMatchObject({
      from: { name: "Acme", email: "news@example.org" },
      replyTo: "help@desk.example",
    });
    const addressOnly = toCreateRequest({ ...values, sender: { ...NO_SENDER, fromEmail: "news@example.org" } });
    expect(addressOnly.from).toEqual({ email: "news@example.org" });
    expect(addressOnly).not.toHaveProperty("replyTo");
    const replyOnly = toCreateRequest({ ...values, sender: { ...NO_SENDER, replyTo: "help@desk.example" } });
    expect(replyOnly).not.toHaveProperty("from");
    expect(replyOnly.replyTo).toBe("help@desk.example");
  });

  it("trims the subject and sends names only where there are some", () => {
    expect(toCreateRequest({ subject: " Hi ", body: "<p>x</p>", recipients: [ann, bob] })).toEqual({
      subject: "Hi",
      body: "<p>x</p>",
      recipients: [{ email: "ann@example.org", name: "Ann" }, "bob@example.org"],
    });
  });

  it("sends an object only for a recipient with a name or fields", () => {
    const carol = {
      email: "carol@example.org",
      line: 3,
      source: "csv" as const,
      fields: { company: "Acme" },
    };
    const dan = { email: "dan@example.org", line: 4, source: "csv" as const, fields: {} };
    expect(
      toCreateRequest({ subject: "Hi", body: "x", recipients: [ann, bob, carol, dan] }).recipients,
    ).toEqual([
      { email: "ann@example.org", name: "Ann" },
      "bob@example.org",
      { email: "carol@example.org", fields: { company: "Acme" } },
      "dan@example.org",
    ]);
  });

  it("asks for a draft only when told to", () => {
    const values = { subject: "Hi", body: "<p>x</p>", recipients: [bob] };
    expect(toCreateRequest(values, true)).toEqual({
      subject: "Hi",
      body: "<p>x</p>",
      recipients: ["bob@example.org"],
      draft: true,
    });
    expect(toCreateRequest(values, false)).not.toHaveProperty("draft");
  });

  it("sends a send time only when one was chosen, drafts included", () => {
    const values = { subject: "Hi", body: "<p>x</p>", recipients: [bob] };
    expect(toCreateRequest(values, false, "2026-12-07T08:00:00.000Z")).toEqual({
      subject: "Hi",
      body: "<p>x</p>",
      recipients: ["bob@example.org"],
      scheduledAt: "2026-12-07T08:00:00.000Z",
    });
    expect(toCreateRequest(values, true, "2026-12-07T08:00:00.000Z")).toMatchObject({
      draft: true,
      scheduledAt: "2026-12-07T08:00:00.000Z",
    });
    expect(toCreateRequest(values)).not.toHaveProperty("scheduledAt");
  });
});

describe("newIdempotencyKey", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("works without crypto.randomUUID, which plain-HTTP pages lack", () => {
    const real = globalThis.crypto;
    vi.stubGlobal("crypto", { getRandomValues: real.getRandomValues.bind(real) });
    expect(newIdempotencyKey()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it("makes distinct version 4 UUIDs", () => {
    const a = newIdempotencyKey();
    const b = newIdempotencyKey();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
  });
});
