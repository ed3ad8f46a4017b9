// @vitest-environment node
import { describe, expect, it } from "vitest";

import { POST } from "./route";

describe("POST /sign-out", () => {
  it("removes the session cookie and sends the browser to /sign-in", () => {
    const response = POST(
      new Request("http://dash.test/sign-out", {
        method: "POST",
        headers: { host: "dash.test", origin: "http://dash.test", cookie: "paloma_key=pal_x" },
      }),
    );
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/sign-in");
    expect(response.headers.get("set-cookie")).toBe(
      "paloma_key=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict",
    );
  });

  it("removes a Secure cookie over HTTPS", () => {
    const response = POST(
      new Request("http://dash.test/sign-out", {
        method: "POST",
        headers: { host: "dash.test", "x-forwarded-proto": "https" },
      }),
    );
    expect(response.headers.get("set-cookie")).toMatch(/; Secure$/);
  });

  it.each(["https://evil.test", "null"])("refuses a request from another origin (%s)", (origin) => {
    const response = POST(
      new Request("http://dash.test/sign-out", {
        method: "POST",
        headers: { host: "dash.test", origin },
      }),
    );
    expect(response.status).toBe(403);
    expect(response.headers.get("set-cookie")).toBeNull();
  });
});
