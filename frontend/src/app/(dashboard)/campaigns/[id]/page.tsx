import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import Link from "next/link";

import { CampaignDetail } from "@/components/CampaignDetail";
import { parsePage, parseRecipientFilter } from "@/lib/params";
import { prefetch } from "@/lib/prefetch";
import { sessionToken } from "@/lib/session-server";
import { campaignQuery } from "@/lib/queries";

export const metadata: Metadata = { title: "Campaign" };

export default async function CampaignPage({ params, searchParams }: PageProps<"/campaigns/[id]">) {
  const { id } = await params;
  const query = await searchParams;
  const state = await prefetch((queries) => [campaignQuery(queries, id)], {
    token: await sessionToken(),
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
          filter={parseRecipientFilter(query.status)}
          page={parsePage(query.page)}
        />
      </HydrationBoundary>
    </>
  );
}
