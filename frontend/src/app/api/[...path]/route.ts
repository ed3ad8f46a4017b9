import { proxy } from "@/lib/api-proxy";

// Every method under /api/ goes to the Paloma API (see src/lib/api-proxy.ts).
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = proxy;
export const HEAD = proxy;
export const POST = proxy;
export const PUT = proxy;
export const PATCH = proxy;
export const DELETE = proxy;
export const OPTIONS = proxy;
