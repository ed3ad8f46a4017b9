/**
 * What the dashboard's `/api` proxy may forward: the API's own operations, as openapi.json lists
 * them. Anything else is answered here, in the API's error shape, without contacting the API, so
 * the proxy opens no door the API itself does not have.
 */
import type { paths } from "./api/schema";
import type { ErrorCode } from "./api/types";

type ApiPath = Extract<keyof paths, `/api/${string}`>;
type Method = "get" | "put" | "post" | "delete" | "patch";
/** The methods openapi.json has an operation for on path P. */
type MethodOf<P extends ApiPath> = {
  [M in Method]: paths[P][M] extends undefined ? never : M;
}[Method];

/**
 * Every path of the API under /api/ with its methods. Typed against the client generated from
 * openapi.json: a path or method the API does not have, or a path it has that is missing here,
 * fails the typecheck.
 */
const OPERATIONS: { readonly [P in ApiPath]: readonly MethodOf<P>[] } = {
  "/api/emails": ["get", "post"],
  "/api/emails/preview": ["post"],
  "/api/emails/{id}": ["get", "patch"],
  "/api/emails/{id}/activity": ["get"],
  "/api/emails/{id}/cancel": ["post"],
  "/api/emails/{id}/duplicate": ["post"],
  "/api/emails/{id}/pause": ["post"],
  "/api/emails/{id}/recipients": ["get"],
  "/api/emails/{id}/reschedule": ["post"],
  "/api/emails/{id}/resume": ["post"],
  "/api/emails/{id}/retry-failed": ["post"],
  "/api/emails/{id}/send": ["post"],
  "/api/emails/{id}/test": ["post"],
  "/api/emails/{id}/timeline": ["get"],
  "/api/keys": ["get", "post"],
  "/api/keys/{id}": ["delete"],
  "/api/me": ["get"],
  "/api/queue": ["get"],
  "/api/suppressions": ["get", "post"],
  "/api/suppressions/{email}": ["delete"],
};

interface Route {
  pattern: RegExp;
  /** Upper case, as in `Request.method` and the `Allow` header. */
  methods: string[];
}

/** `/api/emails/{id}` -> /^\/api\/emails\/[^/]+$/: a parameter is one path segment. */
function pattern(template: string): RegExp {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${template.split(/\{[^}]+\}/).map(literal).join("[^/]+")}$`);
}

const ROUTES: Route[] = Object.entries(OPERATIONS).map(([template, methods]) => ({
  pattern: pattern(template),
  // The API answers HEAD wherever it answers GET.
  methods: methods.flatMap((m) => (m === "get" ? ["GET", "HEAD"] : [m.toUpperCase()])),
}));

function apiError(
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json(
    { error: { code, message } },
    { status, headers: { "cache-control": "no-store", ...headers } },
  );
}

/**
 * `null` when the API has an operation for `method` on `pathname` (forward the request);
 * otherwise the answer the API would give: 404 `not_found` for a path it does not have, 405
 * `method_not_allowed` (with an `Allow` header) for a method its path does not have.
 */
export function refusal(method: string, pathname: string): Response | null {
  const route = ROUTES.find((r) => r.pattern.test(pathname));
  if (!route) return apiError(404, "not_found", "route not found");
  if (route.methods.includes(method)) return null;
  return apiError(
    405,
    "method_not_allowed",
    "this route does not support this method; the Allow header lists those it does",
    { allow: route.methods.join(", ") },
  );
}
