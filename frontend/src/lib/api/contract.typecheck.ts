/**
 * Compile-time proof that `tsc` rejects wrong uses of the API: each line below is a mistake that
 * must not type-check (`@ts-expect-error` fails the build if it ever does). Never imported.
 */
import { api } from "./client";
import type { ApiError } from "./errors";

export function apiMisuseFailsToCompile(): void {
  const client = api();
  // @ts-expect-error: there is no such route
  void client.GET("/api/campaigns");
  // @ts-expect-error: the campaign id path parameter is required
  void client.GET("/api/emails/{id}");
  // @ts-expect-error: perPage is a number, not a string
  void client.GET("/api/emails", { params: { query: { perPage: "20" } } });
  void client.GET("/api/emails/{id}/recipients", {
    // @ts-expect-error: a recipient's status is PENDING, SENT, FAILED or CANCELLED
    params: { path: { id: "x" }, query: { status: "BOUNCED" } },
  });
  // @ts-expect-error: recipients are required
  void client.POST("/api/emails", { body: { subject: "Hello", body: "<p>Hi</p>" } });
  // @ts-expect-error: campaigns cannot be deleted
  void client.DELETE("/api/emails/{id}", { params: { path: { id: "x" } } });
  void client.GET("/api/emails").then(({ data }) => {
    // @ts-expect-error: a campaign page has `items`, not `campaigns`
    return data?.campaigns;
  });
  void client.GET("/api/emails/{id}/timeline", { params: { path: { id: "x" } } }).then(({ data }) => {
    // @ts-expect-error: timeline points count `sent` and `failed`, not `delivered`
    return data?.points[0]?.delivered;
  });
  void client.POST("/api/emails", {
    // @ts-expect-error: `draft` is a boolean
    body: { subject: "Hello", body: "<p>Hi</p>", recipients: ["a@example.org"], draft: "yes" },
  });
  // @ts-expect-error: a draft is sent with POST, not PUT
  void client.PUT("/api/emails/{id}/send", { params: { path: { id: "x" } } });
  void client.GET("/api/me").then(({ data }) => {
    // @ts-expect-error: the key's token is never given back, only its prefix
    return data?.token;
  });
  void client.GET("/api/emails/{id}/activity", { params: { path: { id: "x" } } }).then(
    ({ data }) =>
      // @ts-expect-error: an entry names its key (`keyName`), not a `user`
      data?.items[0]?.user,
  );
}

export function errorCodesAreTyped(error: ApiError): boolean {
  // @ts-expect-error: the API has no such code (it is `validation_failed`)
  return error.code === "validation_error";
}
