import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import Link from "next/link";

import { CampaignDetail } from "@/components/CampaignDetail";
import { parsePage, parseRecipientFilter } from "@/lib/params";
import { prefetch } from "@/lib/prefetch";
import { sessionToken } from "@/lib/session-server";
import type { Campaign } from "@/lib/api/types";
import { activityQuery, campaignQuery, phaseOf, recipientsQuery } from "@/lib/queries";

export const metadata: Metadata = { title: "Campaign" };

export default async function CampaignPage({ params, searchParams }: PageProps<"/campaigns/[id]">) {
  const { id } = await params;
  const query = await searchParams;
  const filter = parseRecipientFilter(query.status);
  const page = parsePage(query.page);
  // The recipients' page and the activity come with the campaign (they are keyed by its status):
  // read in the browser, they arrived after the first paint and pushed what was below them down.
  const state = await prefetch((queries) => [campaignQuery(queries, id)], {
    token: await sessionToken(),
    then: (queries, [campaign]) => {
      if (campaign === undefined) return [];
      const { status } = campaign as Campaign;
      return [
        recipientsQuery(queries, id, filter, page, phaseOf(status)),
        activityQuery(queries, id, 1, status),
      ];
    },
  });
  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm">
        <Link href="/" className="rounded-sm text-blue-800 hover:underline">
          ← Campaigns
        </Link>
      </nav>
      <HydrationBoundary state={state}>
        <CampaignDetail
          key={id}
          id={id}
          filter={filter}
          page={page}
        />
      </HydrationBoundary>
    </>
  );
}
