import { proxy } from "@/lib/api-proxy";
import { refusal } from "@/lib/api-routes";

// The API's own operations under /api/ go to the Paloma API (see src/lib/api-proxy.ts); any
// other path or method is refused here without contacting it (see src/lib/api-routes.ts). Every
// method is exported so that the refusal has the API's error shape.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

async function handle(request: Request): Promise<Response> {
  return refusal(request.method, new URL(request.url).pathname) ?? proxy(request);
}

export const GET = handle;
export const HEAD = handle;
export const POST = handle;
export const PUT = handle;
export const PATCH = handle;
export const DELETE = handle;
export const OPTIONS = handle;
