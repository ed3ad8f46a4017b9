// @vitest-environment node
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";

import { apiBaseUrl, proxy } from "./api-proxy";

const KEY = "pal_" + "a1B2".repeat(10) + "xyz";
/** The session cookie, as the browser sends it back after signing in. */
const SESSION = `theme=dark; paloma_key=${KEY}`;

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      if (req.url?.startsWith("/api/emails") && req.method === "POST") {
        res.writeHead(202, {
          "content-type": "application/json",
          location: "/api/emails/abc",
          "idempotent-replayed": "true",
          "x-internal": "secret",
        });
        res.end(JSON.stringify({ id: "abc" }));
      } else if (req.url?.startsWith("/api/me") && req.headers.authorization !== `Bearer ${KEY}`) {
        res.writeHead(401, { "content-type": "application/json", "www-authenticate": "Bearer" });
        res.end(JSON.stringify({ error: { code: "unauthorized", message: "unknown key" } }));
      } else if (req.url?.startsWith("/api/emails/missing")) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "not_found", message: "campaign not found" } }));
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ items: [], page: 2 }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

afterEach(() => {
  seen.length = 0;
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("the /api proxy", () => {
  it("forwards path and query to PALOMA_API_URL and passes status, content type and body back", async () => {
    vi.stubEnv("PALOMA_API_URL", `${base}/`);
    const response = await proxy(
      new Request("http://dashboard.test/api/emails?page=2&perPage=5", {
        headers: { accept: "application/json", cookie: SESSION },
      }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toEqual({ items: [], page: 2 });
    expect(seen[0]?.url).toBe("/api/emails?page=2&perPage=5");
    expect(seen[0]?.headers.accept).toBe("application/json");
    // Only the headers the API needs go through, and the key from the cookie.
    expect(seen[0]?.headers.cookie).toBeUndefined();
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("streams a request body through and returns the API's Location", async () => {
    vi.stubEnv("PALOMA_API_URL", base);
    const payload = JSON.stringify({ subject: "Hi", body: "<p>x</p>", recipients: ["a@b.org"] });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(payload);
        controller.enqueue(bytes.slice(0, 10));
        controller.enqueue(bytes.slice(10));
        controller.close();
      },
    });
    const response = await proxy(
      new Request("http://dashboard.test/api/emails", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "idempotency-key": "key-1",
          cookie: SESSION,
        },
        body: stream,
        duplex: "half",
      } as RequestInit & { duplex: "half" }),
    );
    expect(response.status).toBe(202);
    expect(response.headers.get("location")).toBe("/api/emails/abc");
    expect(response.headers.get("idempotent-replayed")).toBe("true");
    expect(response.headers.get("x-internal")).toBeNull();
    expect(await response.json()).toEqual({ id: "abc" });
    expect(seen[0]?.method).toBe("POST");
    expect(seen[0]?.headers["content-type"]).toBe("application/json");
    expect(seen[0]?.headers["idempotency-key"]).toBe("key-1");
    expect(seen[0]?.body).toBe(payload);
  });

  it("passes the API's errors through unchanged", async () => {
    vi.stubEnv("PALOMA_API_URL", base);
    const response = await proxy(
      new Request("http://dashboard.test/api/emails/missing", { headers: { cookie: SESSION } }),
    );
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: "not_found", message: "campaign not found" },
    });
  });

  it("answers 502 in the API's error shape, without internal details, when the API is down", async () => {
    // A port that nothing listens on: bind one, then close it.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    vi.stubEnv("PALOMA_API_URL", `http://127.0.0.1:${port}`);
    vi.spyOn(console, "error").mockImplementation(() => {});

    const response = await proxy(
      new Request("http://dashboard.test/api/emails", { headers: { cookie: SESSION } }),
    );
    expect(response.status).toBe(502);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = await response.json();
    expect(body).toEqual({
      error: {
        code: "api_unreachable",
        message: "The Paloma API cannot be reached. Try again in a moment.",
      },
    });
    expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|fetch failed/);
  });

  it("never passes on an Authorization header the browser sent: only the cookie's key", async () => {
    vi.stubEnv("PALOMA_API_URL", base);
    const response = await proxy(
      new Request("http://dashboard.test/api/me", {
        headers: { authorization: "Bearer pal_someoneelse", cookie: SESSION },
      }),
    );
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it.each([
    ["no cookie", {}],
    ["an empty session cookie", { cookie: "paloma_key=" }],
    ["only a browser-sent Authorization header", { authorization: `Bearer ${KEY}` }],
  ])("answers 401 itself, without asking the API, for %s", async (_, headers) => {
    vi.stubEnv("PALOMA_API_URL", base);
    const response = await proxy(new Request("http://dashboard.test/api/emails", { headers }));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: { code: "unauthorized", message: "Sign in with an API key first." },
    });
    expect(seen).toHaveLength(0);
  });

  it.each([
    ["http://dashboard.test/api/me", {}, false],
    ["https://dashboard.test/api/me", {}, true],
    ["http://dashboard.test/api/me", { "x-forwarded-proto": "https" }, true],
  ])(
    "passes the API's 401 on and removes the session cookie (%s %j: Secure %s)",
    async (url, extra, secure) => {
      vi.stubEnv("PALOMA_API_URL", base);
      const response = await proxy(
        new Request(url, { headers: { cookie: "paloma_key=pal_revoked", ...extra } }),
      );
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        "unauthorized",
      );
      const cookie = response.headers.get("set-cookie") ?? "";
      expect(cookie).toMatch(/^paloma_key=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/);
      expect(cookie.includes("Secure")).toBe(secure);
    },
  );

  it("leaves the cookie alone on other answers", async () => {
    vi.stubEnv("PALOMA_API_URL", base);
    const response = await proxy(
      new Request("http://dashboard.test/api/emails/missing", { headers: { cookie: SESSION } }),
    );
    expect(response.status).toBe(404);
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  it("defaults to http://127.0.0.1:8080", () => {
    vi.stubEnv("PALOMA_API_URL", "");
    expect(apiBaseUrl()).toBe("http://127.0.0.1:8080");
    vi.stubEnv("PALOMA_API_URL", "http://api:9000///");
    expect(apiBaseUrl()).toBe("http://api:9000");
  });
});
