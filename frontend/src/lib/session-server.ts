import { cookies } from "next/headers";

import { SESSION_COOKIE, isPlausibleKey } from "./session";

/** The session's API key, for calls the dashboard's server makes itself (see ./prefetch.ts). */
export async function sessionToken(): Promise<string | undefined> {
  const value = (await cookies()).get(SESSION_COOKIE)?.value;
  return value !== undefined && isPlausibleKey(value) ? value : undefined;
}
