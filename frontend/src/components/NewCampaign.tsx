"use client";

import Link from "next/link";

import { meQuery, queries, useApiQuery } from "@/lib/queries";
import { can } from "@/lib/scopes";

import { NewCampaignForm } from "./NewCampaignForm";
import { LoadFailed, PageLoading, buttonSecondary } from "./ui";

/** The new-campaign form as the signed-in key may use it: sending, drafts only, or not at all. */
export function NewCampaign() {
  const query = useApiQuery(meQuery(queries()));
  const me = query.data;
  if (!me) {
    const error = query.error ?? query.failureReason;
    if (error) {
      return (
        <LoadFailed
          title="Your key could not be checked."
          message={error.unreachable ? "The Paloma API cannot be reached. Retrying…" : error.message}
          onRetry={() => void query.refetch()}
        />
      );
    }
    return <PageLoading label="Checking your key" />;
  }
  if (!can(me, "campaigns:create")) {
    return (
      <div className="rounded-lg border border-slate-200 bg-white px-6 py-12 text-center">
        <h2 className="text-lg font-semibold text-slate-900">Your key may not create campaigns</h2>
        <p className="mt-1 text-sm text-slate-600">
          Creating one takes a key with the <code className="font-mono">campaigns:create</code>{" "}
          permission.
        </p>
        <Link href="/" className={`${buttonSecondary} mt-5`}>
          Back to the campaigns
        </Link>
      </div>
    );
  }
  return <NewCampaignForm canSend={can(me, "campaigns:send")} />;
}
