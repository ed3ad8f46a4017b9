import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";

import { SystemOverview } from "@/components/SystemOverview";
import { prefetch } from "@/lib/prefetch";
import { queueQuery } from "@/lib/queries";
import { sessionToken } from "@/lib/session-server";

export const metadata: Metadata = { title: "System" };

export default async function SystemPage() {
  const state = await prefetch((queries) => [queueQuery(queries)], {
    token: await sessionToken(),
  });
  return (
    <>
      <div className="mb-6">
        <h1 className="text-2xl font-bold tracking-tight text-slate-900">System</h1>
        <p className="mt-1 text-sm text-slate-600">
          The campaign queue and the workers sending it, read every 2 seconds.
        </p>
      </div>
      <HydrationBoundary state={state}>
        <SystemOverview />
      </HydrationBoundary>
    </>
  );
}
