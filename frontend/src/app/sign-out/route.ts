import { clearedSessionCookieHeader, isHttps } from "@/lib/session";

export const dynamic = "force-dynamic";

/**
 * Signs out: removes the session cookie and sends the browser to /sign-in (303, so the form's
 * POST becomes a GET). A request another site made (its `Origin` is not this one) is refused, so
 * no page elsewhere can sign the user out.
 */
export function POST(request: Request): Response {
  const origin = request.headers.get("origin");
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  if (origin !== null) {
    let originHost: string | null = null;
    try {
      originHost = new URL(origin).host;
    } catch {
      // Not a URL ("null" from a sandboxed or privacy-sensitive context): refused below.
    }
    if (originHost === null || originHost !== host) {
      return Response.json(
        { error: { code: "forbidden", message: "Sign out from the dashboard itself." } },
        { status: 403, headers: { "cache-control": "no-store" } },
      );
    }
  }
  return new Response(null, {
    status: 303,
    headers: {
      location: "/sign-in",
      "set-cookie": clearedSessionCookieHeader(isHttps(request.headers, request.url)),
      "cache-control": "no-store",
    },
  });
}
