// @vitest-environment node
import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";

import { needsSession, proxy } from "./proxy";

const SESSION = "paloma_key=pal_" + "q".repeat(43);

function request(url: string, headers: Record<string, string> = {}): NextRequest {
  return new NextRequest(url, { headers });
}

/** The directives of a policy, by name. */
function directives(policy: string | null): Map<string, string> {
  return new Map(
    (policy ?? "").split(";").map((d) => {
      const [name = "", ...values] = d.trim().split(/\s+/);
      return [name, values.join(" ")];
    }),
  );
}

describe("the proxy in front of every page", () => {
  it.each(["/", "/campaigns/new", "/campaigns/0190c7c4-0000-7000-8000-000000000001", "/nowhere"])(
    "sends a browser without a session from %s to /sign-in",
    (path) => {
      const response = proxy(request(`http://dash.test${path}?status=failed`));
      expect(response.status).toBe(307);
      const location = new URL(response.headers.get("location")!);
      expect(location.pathname).toBe("/sign-in");
      expect(location.searchParams.get("next")).toBe(`${path}?status=failed`);
    },
  );

  it("sends no `next` for the home page", () => {
    const response = proxy(request("http://dash.test/"));
    expect(response.headers.get("location")).toBe("http://dash.test/sign-in");
  });

  it("lets a browser with a session through", () => {
    const response = proxy(request("http://dash.test/campaigns/new", { cookie: SESSION }));
    expect(response.headers.get("location")).toBeNull();
    expect(response.headers.get("x-middleware-next")).toBe("1");
  });

  it("does not count an empty cookie as a session", () => {
    const response = proxy(request("http://dash.test/", { cookie: "paloma_key=" }));
    expect(response.status).toBe(307);
  });

  it.each(["/sign-in", "/sign-out", "/icon.svg", "/robots.txt", "/api/emails", "/api/me"])(
    "lets anyone reach %s",
    (path) => {
      expect(needsSession(path)).toBe(false);
      expect(proxy(request(`http://dash.test${path}`)).headers.get("location")).toBeNull();
    },
  );

  it("gives each response a policy with a fresh nonce, and Next.js the same in the request", () => {
    const first = proxy(request("http://dash.test/", { cookie: SESSION }));
    const second = proxy(request("http://dash.test/", { cookie: SESSION }));
    const policy = first.headers.get("content-security-policy");
    const d = directives(policy);
    const nonce = /'nonce-([A-Za-z0-9+/=]{24})'/.exec(d.get("script-src") ?? "")?.[1];
    expect(nonce).toBeDefined();
    expect(d.get("script-src")).toBe(`'self' 'nonce-${nonce}' 'strict-dynamic'`);
    expect(d.get("script-src")).not.toContain("unsafe-inline");
    expect(d.get("frame-ancestors")).toBe("'none'");
    expect(d.get("default-src")).toBe("'self'");
    expect(d.get("object-src")).toBe("'none'");
    expect(d.has("upgrade-insecure-requests")).toBe(false);
    expect(second.headers.get("content-security-policy")).not.toBe(policy);
    // Next.js reads the nonce from the request it renders.
    expect(first.headers.get("x-middleware-request-content-security-policy")).toBe(policy);
    expect(first.headers.get("x-middleware-request-x-nonce")).toBe(nonce);
  });

  it("also puts the policy on the redirect to /sign-in", () => {
    const response = proxy(request("http://dash.test/"));
    expect(directives(response.headers.get("content-security-policy")).get("frame-ancestors")).toBe(
      "'none'",
    );
  });

  it("upgrades insecure requests on a page served over HTTPS", () => {
    const response = proxy(
      request("http://dash.test/sign-in", { "x-forwarded-proto": "https" }),
    );
    expect(directives(response.headers.get("content-security-policy")).has("upgrade-insecure-requests")).toBe(true);
  });
});
