import { HydrationBoundary } from "@tanstack/react-query";

import { SuppressionList } from "@/components/SuppressionList";
import { parsePage } from "@/lib/params";
import { prefetch } from "@/lib/prefetch";
import { suppressionPageQuery } from "@/lib/queries";
import { sessionToken } from "@/lib/session-server";

export default async function SuppressionsPage({ searchParams }: PageProps<"/suppressions">) {
  const params = await searchParams;
  const page = parsePage(params.page);
  const raw = Array.isArray(params.search) ? params.search[0] : params.search;
  const search = raw?.trim() ? raw.trim() : undefined;
  const state = await prefetch((queries) => [suppressionPageQuery(queries, page, search)], {
    token: await sessionToken(),
  });
  return (
    <>
      <div className="mb-6">
        <h1 className="text-2xl font-bold tracking-tight text-slate-900">Suppressions</h1>
        <p className="mt-1 text-sm text-slate-600">
          Addresses that get no more messages: unsubscribed, bounced for good or added by hand.
        </p>
      </div>
      <HydrationBoundary state={state}>
        <SuppressionList page={page} search={search} />
      </HydrationBoundary>
    </>
  );
}
