// @vitest-environment node
import { beforeEach, describe, expect, it, vi } from "vitest";

const { cookieSet, requestHeaders, redirect, checkKey } = vi.hoisted(() => ({
  cookieSet: vi.fn(),
  requestHeaders: { value: new Headers() },
  redirect: vi.fn((url: string) => {
    throw new Error(`NEXT_REDIRECT ${url}`);
  }),
  checkKey: vi.fn(),
}));

vi.mock("next/headers", () => ({
  cookies: async () => ({ set: cookieSet }),
  headers: async () => requestHeaders.value,
}));
vi.mock("next/navigation", () => ({ redirect }));
vi.mock("@/lib/sign-in", async (importActual) => ({
  ...(await importActual<typeof import("@/lib/sign-in")>()),
  checkKey,
}));

import { signIn } from "./actions";

const KEY = "pal_" + "Ab1".repeat(14) + "x";

function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.set(name, value);
  return data;
}

beforeEach(() => {
  cookieSet.mockReset();
  redirect.mockClear();
  checkKey.mockReset();
  requestHeaders.value = new Headers({ "x-forwarded-proto": "http" });
});

describe("signIn", () => {
  it("stores an accepted key in an httpOnly, SameSite=Strict cookie and goes on", async () => {
    checkKey.mockResolvedValue({ ok: true, me: { name: "ops" } });
    await expect(
      signIn({ error: null }, form({ key: `  ${KEY}\n`, next: "/campaigns/abc" })),
    ).rejects.toThrow("NEXT_REDIRECT /campaigns/abc");
    expect(checkKey).toHaveBeenCalledWith(KEY);
    expect(cookieSet).toHaveBeenCalledWith("paloma_key", KEY, {
      httpOnly: true,
      sameSite: "strict",
      secure: false,
      path: "/",
      maxAge: 43_200,
    });
  });

  it("marks the cookie Secure when the browser came over HTTPS", async () => {
    requestHeaders.value = new Headers({ "x-forwarded-proto": "https" });
    checkKey.mockResolvedValue({ ok: true, me: { name: "ops" } });
    await expect(signIn({ error: null }, form({ key: KEY }))).rejects.toThrow("NEXT_REDIRECT /");
    expect(cookieSet.mock.calls[0]?.[2]).toMatchObject({ secure: true, httpOnly: true });
  });

  it("never sends the user to another site after signing in", async () => {
    checkKey.mockResolvedValue({ ok: true, me: { name: "ops" } });
    await expect(
      signIn({ error: null }, form({ key: KEY, next: "//evil.test/" })),
    ).rejects.toThrow("NEXT_REDIRECT /");
    expect(redirect).toHaveBeenCalledWith("/");
  });

  it("says why a key is refused, and stores nothing", async () => {
    checkKey.mockResolvedValue({ ok: false, reason: "invalid" });
    expect(await signIn({ error: null }, form({ key: KEY }))).toEqual({
      error: "This key is not valid or was revoked.",
    });
    checkKey.mockResolvedValue({ ok: false, reason: "unreachable" });
    expect((await signIn({ error: null }, form({ key: KEY }))).error).toMatch(
      /cannot be reached/,
    );
    expect(cookieSet).not.toHaveBeenCalled();
    expect(redirect).not.toHaveBeenCalled();
  });
});
