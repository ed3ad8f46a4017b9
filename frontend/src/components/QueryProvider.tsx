"use client";

import { QueryClientProvider, isServer, type QueryClient } from "@tanstack/react-query";

import { makeQueryClient } from "@/lib/queries";

let browserClient: QueryClient | undefined;

/** One cache per browser tab; a fresh one per server render, so requests never share answers. */
function queryClient(): QueryClient {
  if (isServer) return makeQueryClient();
  browserClient ??= makeQueryClient();
  return browserClient;
}

/** The query cache the pages' API reads go through. */
export function QueryProvider({ children }: { children: React.ReactNode }) {
  return <QueryClientProvider client={queryClient()}>{children}</QueryClientProvider>;
}
