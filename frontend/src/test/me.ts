import type { QueryClient } from "@tanstack/react-query";

import type { Me } from "@/lib/api/types";
import { meQuery, queries } from "@/lib/queries";
import type { Scope } from "@/lib/scopes";

/** A signed-in key with `scopes`. */
export function key(name: string, scopes: Scope[]): Me {
  return {
    id: "0190c7c4-0000-7000-8000-0000000000ee",
    name,
    prefix: "pal_AbCd",
    scopes,
    createdAt: "2026-03-01T09:00:00Z",
    revokedAt: null,
  };
}

/** Puts `me` in the cache as the layout's server-side read does (no call is made for it). */
export function signIn(client: QueryClient, me: Me): void {
  client.setQueryData(meQuery(queries()).queryKey, me);
}
