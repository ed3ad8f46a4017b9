"use server";

import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";

import { SESSION_COOKIE, isHttps, safeNextPath, sessionCookieOptions } from "@/lib/session";
import { checkKey, checkMessage } from "@/lib/sign-in";

export interface SignInState {
  /** Why the last attempt failed; `null` before any. */
  error: string | null;
}

/**
 * Signs in with the API key typed in the form: the API must accept it (`GET /api/me`), then it
 * is stored in the session cookie and the user goes on to `next` (or the campaigns). The key
 * never goes back to the browser other than in that httpOnly cookie.
 */
export async function signIn(_previous: SignInState, form: FormData): Promise<SignInState> {
  const raw = form.get("key");
  const token = typeof raw === "string" ? raw.trim() : "";
  const check = await checkKey(token);
  if (!check.ok) return { error: checkMessage(check) };

  const secure = isHttps(await headers());
  (await cookies()).set(SESSION_COOKIE, token, sessionCookieOptions(secure));
  const next = form.get("next");
  redirect(safeNextPath(typeof next === "string" ? next : null));
}
