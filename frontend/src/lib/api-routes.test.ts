// @vitest-environment node
import { readFileSync } from "node:fs";

import { describe, expect, it, vi } from "vitest";

import * as route from "@/app/api/[...path]/route";

import { refusal } from "./api-routes";

const ID = "0192f1c4-7d1e-7c3a-9b8e-2f4a6c8d0e1f";

describe("the /api proxy's allow-list", () => {
  it("lets through every operation of openapi.json under /api/, and HEAD where GET is", () => {
    const spec = JSON.parse(
      readFileSync(new URL("../../../openapi.json", import.meta.url), "utf8"),
    ) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(spec.paths)
      .filter(([path]) => path.startsWith("/api/"))
      .flatMap(([path, item]) =>
        Object.keys(item).map((method) => [method.toUpperCase(), path.replace("{id}", ID)]),
      );
    expect(operations).toContainEqual(["POST", "/api/emails"]);
    for (const [method, path] of operations) {
      expect(refusal(method!, path!), `${method} ${path}`).toBeNull();
      if (method === "GET") expect(refusal("HEAD", path!), `HEAD ${path}`).toBeNull();
    }
  });

  it.each([
    ["GET", "/api/me"],
    ["HEAD", "/api/me"],
    ["POST", `/api/emails/${ID}/send`],
    ["GET", `/api/emails/${ID}/activity`],
    ["POST", "/api/emails/preview"],
    ["GET", "/api/keys"],
    ["POST", "/api/keys"],
    ["DELETE", `/api/keys/${ID}`],
    ["GET", "/api/suppressions"],
    ["POST", "/api/suppressions"],
    ["DELETE", "/api/suppressions/ada@example.org"],
  ])("lets through the access-control operation %s %s", (method, path) => {
    expect(refusal(method, path)).toBeNull();
  });

  it.each([
    "/api",
    "/api/",
    "/api/campaigns",
    "/api/emails/",
    "/api/emails/x/y",
    `/api/emails/${ID}/recipients/extra`,
    `/api/emails/${ID}/timeline.json`,
    "/api/emails/preview/x",
    "/api/openapi.json",
    "/api/emailsx",
    "/api/keys/",
    `/api/keys/${ID}/rotate`,
    "/api/me/keys",
  ])("answers 404 not_found for %s", async (path) => {
    const response = refusal("GET", path);
    expect(response?.status).toBe(404);
    expect(await response?.json()).toEqual({
      error: { code: "not_found", message: "route not found" },
    });
  });

  it.each([
    ["DELETE", `/api/emails/${ID}`, "GET, HEAD, PATCH"],
    ["POST", `/api/emails/${ID}/recipients`, "GET, HEAD"],
    ["PUT", "/api/emails", "GET, HEAD, POST"],
    ["PATCH", "/api/emails", "GET, HEAD, POST"],
    ["OPTIONS", "/api/emails", "GET, HEAD, POST"],
    ["GET", `/api/emails/${ID}/send`, "POST"],
    ["POST", "/api/me", "GET, HEAD"],
    ["GET", `/api/keys/${ID}`, "DELETE"],
    ["GET", "/api/emails/preview", "POST"],
    ["DELETE", "/api/keys", "GET, HEAD, POST"],
  ])("answers 405 method_not_allowed for %s %s, with Allow: %s", async (method, path, allow) => {
    const response = refusal(method, path);
    expect(response?.status).toBe(405);
    expect(response?.headers.get("allow")).toBe(allow);
    expect(response?.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await response?.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("method_not_allowed");
    expect(body.error.message).toMatch(/Allow header/);
  });

  it("refuses in the route handler without contacting the API", async () => {
    const fetch = vi.spyOn(globalThis, "fetch");
    const refused = await route.DELETE(
      new Request(`http://dashboard.test/api/emails/${ID}`, { method: "DELETE" }),
    );
    expect(refused.status).toBe(405);
    const unknown = await route.POST(
      new Request("http://dashboard.test/api/admin", { method: "POST", body: "{}" }),
    );
    expect(unknown.status).toBe(404);
    expect(fetch).not.toHaveBeenCalled();
  });
});
