import { HydrationBoundary } from "@tanstack/react-query";

import { CampaignList } from "@/components/CampaignList";
import { parseCampaignListFilter, parsePage } from "@/lib/params";
import { prefetch } from "@/lib/prefetch";
import { sessionToken } from "@/lib/session-server";
import { campaignPageQuery } from "@/lib/queries";

export default async function CampaignsPage({ searchParams }: PageProps<"/">) {
  const params = await searchParams;
  const page = parsePage(params.page);
  const filter = parseCampaignListFilter(params.status, params.q);
  const state = await prefetch((queries) => [campaignPageQuery(queries, page, filter)], {
    token: await sessionToken(),
  });
  return (
    <>
      <div className="mb-6">
        <h1 className="text-2xl font-bold tracking-tight text-slate-900">Campaigns</h1>
        <p className="mt-1 text-sm text-slate-600">Newest first, with live delivery progress.</p>
      </div>
      <HydrationBoundary state={state}>
        <CampaignList page={page} filter={filter} />
      </HydrationBoundary>
    </>
  );
}
