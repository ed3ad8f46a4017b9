"use client";

import Link from "next/link";

import { useMe } from "@/lib/queries";
import { can } from "@/lib/scopes";

/** "New campaign" in the header (just "New" on a phone), for a key that may create campaigns. */
export function NewCampaignLink() {
  if (!can(useMe(), "campaigns:create")) return null;
  return (
    <Link
      href="/campaigns/new"
      className="inline-flex min-h-10 items-center rounded-md bg-blue-700 px-2.5 text-sm font-semibold whitespace-nowrap text-white shadow-xs hover:bg-blue-800 sm:px-3"
    >
      {/* "New" alone on a phone, where the header has no room for more; the name stays whole. */}
      New<span className="sr-only sm:not-sr-only sm:whitespace-pre"> campaign</span>
    </Link>
  );
}
