import { describe, expect, it } from "vitest";

import { ApiError, toApiError } from "./errors";
import { mapSubmitError } from "./submit-errors";

// The bodies below are what adapters/http/src/error.rs and extract.rs send.
describe("mapSubmitError", () => {
  it("puts each validation_failed field message next to its field", () => {
    const error = toApiError(422, {
      error: {
        code: "validation_failed",
        message: "the campaign has invalid fields",
        details: {
          fields: [
            { field: "subject", message: "the subject is empty" },
            { field: "body", message: "the body is larger than 2097152 bytes" },
          ],
          invalidRecipients: [],
          invalidRecipientCount: 0,
        },
      },
    });
    const mapped = mapSubmitError(error);
    expect(mapped.fields).toEqual({
      subject: "The subject is empty.",
      body: "The body is larger than 2097152 bytes.",
    });
    expect(mapped.recipients).toEqual([]);
    expect(mapped.form).toBeUndefined();
  });

  it("puts a refused send time next to the picker, worded as the dashboard checks it", () => {
    const error = toApiError(422, {
      error: {
        code: "validation_failed",
        message: "the campaign has invalid fields",
        details: {
          fields: [
            { field: "scheduledAt", message: "the time to send it must be at most a year ahead" },
          ],
        },
      },
    });
    const mapped = mapSubmitError(error);
    expect(mapped.fields).toEqual({
      scheduledAt: "The time to send it must be at most a year ahead.",
    });
    expect(mapped.form).toBeUndefined();
  });

  it("puts a refused sender next to its fields, by the API's names", () => {
    const error = toApiError(422, {
      error: {
        code: "validation_failed",
        message: "the campaign has invalid fields",
        details: {
          fields: [
            {
              field: "from.email",
              message: "the sender's domain is not one this server may send from (localhost)",
            },
            { field: "replyTo", message: "the address is not a valid email address" },
          ],
        },
      },
    });
    const mapped = mapSubmitError(error);
    expect(mapped.fields).toEqual({
      "from.email": "The sender's domain is not one this server may send from (localhost).",
      replyTo: "The address is not a valid email address.",
    });
    expect(mapped.form).toBeUndefined();
  });

  it("lists invalid recipients by index, with the total count, under the recipients field", () => {
    const error = toApiError(422, {
      error: {
        code: "validation_failed",
        message: "the campaign has invalid fields",
        details: {
          fields: [],
          invalidRecipients: [
            { index: 2, value: "x@", reason: "the address is not a valid email address" },
            { index: 5, value: "", reason: "the address is empty" },
          ],
          invalidRecipientCount: 130,
        },
      },
    });
    const mapped = mapSubmitError(error);
    expect(mapped.recipients).toEqual([
      { index: 2, value: "x@", reason: "the address is not a valid email address" },
      { index: 5, value: "", reason: "the address is empty" },
    ]);
    expect(mapped.invalidRecipientCount).toBe(130);
    expect(mapped.fields.recipients).toBe("The server refused 130 invalid addresses.");
  });

  it("says recipients lack a merge tag's value rather than that their addresses are invalid", () => {
    const mapped = mapSubmitError(
      new ApiError(422, "validation_failed", "invalid", {
        fields: [{ field: "body", message: "merge tags: {{ city }} has no value for 2 recipient(s)" }],
        invalidRecipients: [
          { index: 1, value: "a@example.org", reason: "no value for {{ city }}" },
          { index: 2, value: "b@example.org", reason: "no value for {{ city }}" },
        ],
        invalidRecipientCount: 2,
      }),
    );
    expect(mapped.fields.recipients).toBe(
      "2 recipients have no value for a merge tag of the subject or body.",
    );
    expect(mapped.fields.body).toBe("Merge tags: {{ city }} has no value for 2 recipient(s).");
  });

  it("keeps the API's own message for the recipients list as a whole", () => {
    const mapped = mapSubmitError(
      toApiError(422, {
        error: {
          code: "validation_failed",
          message: "the campaign has invalid fields",
          details: {
            fields: [{ field: "recipients", message: "at least one recipient is required" }],
            invalidRecipients: [],
            invalidRecipientCount: 0,
          },
        },
      }),
    );
    expect(mapped.fields).toEqual({ recipients: "At least one recipient is required." });
  });

  it("maps an unknown field to a form-level message rather than dropping it", () => {
    const mapped = mapSubmitError(
      toApiError(422, {
        error: {
          code: "validation_failed",
          message: "the campaign has invalid fields",
          details: { fields: [{ field: "sender", message: "unknown sender" }] },
        },
      }),
    );
    expect(mapped.fields).toEqual({});
    expect(mapped.form).toBe("Sender: unknown sender.");
  });

  it("places an invalid_request (schema) error by the field its details name", () => {
    const missing = mapSubmitError(
      toApiError(422, {
        error: {
          code: "invalid_request",
          message: "missing field `subject`",
          details: {
            fields: [{ field: "subject", message: "missing field `subject`" }],
            invalidRecipients: [],
            invalidRecipientCount: 0,
          },
        },
      }),
    );
    expect(missing.fields).toEqual({ subject: "Missing field `subject`." });
    expect(missing.form).toBeUndefined();

    const wrongType = mapSubmitError(
      toApiError(422, {
        error: {
          code: "invalid_request",
          message: "recipients[3]: data did not match any variant of untagged enum RecipientEntry",
          details: {
            fields: [
              {
                field: "recipients",
                index: 3,
                message: "data did not match any variant of untagged enum RecipientEntry",
              },
            ],
            invalidRecipients: [],
            invalidRecipientCount: 0,
          },
        },
      }),
    );
    expect(wrongType.fields).toEqual({
      recipients: "Recipient 4: data did not match any variant of untagged enum RecipientEntry.",
    });

    const unknown = mapSubmitError(
      toApiError(422, {
        error: {
          code: "invalid_request",
          message: "unknown field `cc`, expected one of `subject`, `body`, `recipients`",
          details: {
            fields: [{ field: "cc", message: "unknown field `cc`" }],
            invalidRecipients: [],
            invalidRecipientCount: 0,
          },
        },
      }),
    );
    expect(unknown.fields).toEqual({});
    expect(unknown.form).toBe("Cc: unknown field `cc`.");

    const noField = mapSubmitError(
      toApiError(422, {
        error: {
          code: "invalid_request",
          message: "invalid type: sequence, expected struct CreateCampaignRequest",
        },
      }),
    );
    expect(noField.fields).toEqual({});
    expect(noField.form).toBe(
      "The server rejected the request: invalid type: sequence, expected struct CreateCampaignRequest",
    );
  });

  it("reads the field only from the details, never from the message", () => {
    const mapped = mapSubmitError(
      toApiError(422, {
        error: { code: "invalid_request", message: "missing field `subject` at line 1 column 40" },
      }),
    );
    expect(mapped.fields).toEqual({});
    expect(mapped.form).toBe(
      "The server rejected the request: missing field `subject` at line 1 column 40",
    );
  });

  it("shows too many recipients (413) next to the recipients", () => {
    const mapped = mapSubmitError(
      toApiError(413, {
        error: {
          code: "payload_too_large",
          message: "too many recipients: 100001, the limit is 100000",
          details: { maxRecipients: 100_000, recipients: 100_001 },
        },
      }),
    );
    expect(mapped.fields.recipients).toBe(
      "Too many recipients: 100001; the limit is 100000 per campaign.",
    );
  });

  it("turns a request that is too large, storage down and no answer into form messages", () => {
    const tooLarge = mapSubmitError(
      toApiError(413, {
        error: { code: "payload_too_large", message: "the request body is too large" },
      }),
    );
    expect(tooLarge.fields).toEqual({});
    expect(tooLarge.form).toMatch(/too large/);

    const down = mapSubmitError(
      toApiError(503, {
        error: { code: "service_unavailable", message: "a dependency of the service is unavailable" },
      }),
    );
    expect(down.form).toMatch(/temporarily unavailable, so nothing was saved/);

    const proxy = mapSubmitError(
      toApiError(502, { error: { code: "api_unreachable", message: "unreachable" } }),
    );
    expect(proxy.form).toMatch(/cannot be reached/);

    const conflict = mapSubmitError(
      toApiError(409, { error: { code: "idempotency_conflict", message: "key reused" } }),
    );
    expect(conflict.form).toMatch(/conflicts with an earlier one/);

    const offline = mapSubmitError(new ApiError(0, "network_error", "offline"));
    expect(offline.form).toMatch(/cannot be reached/);
  });

  it("names the permission a key lacks (403 forbidden)", () => {
    const forbidden = mapSubmitError(
      toApiError(403, {
        error: {
          code: "forbidden",
          message: "this key lacks the campaigns:create scope",
          details: { requiredScope: "campaigns:create" },
        },
      }),
    );
    expect(forbidden.fields).toEqual({});
    expect(forbidden.form).toBe(
      "Your key may not do this (it lacks the campaigns:create permission), so nothing was saved.",
    );
    expect(
      mapSubmitError(toApiError(403, { error: { code: "forbidden", message: "no" } })).form,
    ).toBe("Your key may not do this, so nothing was saved.");
  });

  it("falls back on the status when a gateway answered without the API's error shape", () => {
    expect(mapSubmitError(toApiError(413, "<html>Too large</html>")).form).toMatch(/too large/);
    expect(mapSubmitError(toApiError(503, "")).form).toMatch(/temporarily unavailable/);
  });

  it("copes with a body that is not the API's error shape", () => {
    const error = toApiError(500, "<html>Bad gateway</html>");
    expect(error.code).toBe("http_500");
    expect(mapSubmitError(error).form).toBe("The server answered with HTTP 500.");
  });
});
