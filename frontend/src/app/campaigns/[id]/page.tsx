import type { Metadata } from "next";
import Link from "next/link";

import { CampaignDetail } from "@/components/CampaignDetail";
import { parsePage, parseRecipientFilter } from "@/lib/params";

export const metadata: Metadata = { title: "Campaign" };

export default async function CampaignPage({ params, searchParams }: PageProps<"/campaigns/[id]">) {
  const { id } = await params;
  const query = await searchParams;
  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm">
        <Link href="/" className="rounded-sm text-blue-800 hover:underline">
          ← Campaigns
        </Link>
      </nav>
      <CampaignDetail
        key={id}
        id={id}
        filter={parseRecipientFilter(query.status)}
        page={parsePage(query.page)}
      />
    </>
  );
}
