import type { Metadata } from "next";
import Link from "next/link";

import { NewCampaign } from "@/components/NewCampaign";

export const metadata: Metadata = { title: "New campaign" };

export default function NewCampaignPage() {
  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm">
        <Link href="/" className="rounded-sm text-blue-800 hover:underline">
          ← Campaigns
        </Link>
      </nav>
      <h1 className="mb-6 text-2xl font-bold tracking-tight text-slate-900">New campaign</h1>
      <NewCampaign />
    </>
  );
}
