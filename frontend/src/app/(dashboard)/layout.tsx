import { HydrationBoundary } from "@tanstack/react-query";
import Link from "next/link";

import { AccountMenu } from "@/components/AccountMenu";
import { ApiStatusBanner } from "@/components/ApiStatusBanner";
import { Logo } from "@/components/Logo";
import { NewCampaignLink } from "@/components/NewCampaignLink";
import { QueryProvider } from "@/components/QueryProvider";
import { SystemNavLink, WorkerBadge } from "@/components/WorkerBadge";
import { prefetch } from "@/lib/prefetch";
import { meQuery, queueQuery, WORKER_COUNT_POLL_INTERVAL_MS } from "@/lib/queries";
import { sessionToken } from "@/lib/session-server";

/**
 * The signed-in part of the dashboard (src/proxy.ts sends those without a session to /sign-in).
 * The key's name and scopes are read with the page, so the header shows only what it may do from
 * the first paint, and how many workers are alive.
 */
export default async function DashboardLayout({
  children,
}: Readonly<{ children: React.ReactNode }>) {
  // The count of live workers too, so that the header's badge is there from the first paint
  // (refused, and left out, for a key without campaigns:read).
  const state = await prefetch(
    (queries) => [meQuery(queries), queueQuery(queries, WORKER_COUNT_POLL_INTERVAL_MS)],
    { token: await sessionToken() },
  );
  return (
    <QueryProvider>
      <HydrationBoundary state={state}>
        <a
          href="#main"
          className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded-md focus:bg-white focus:px-3 focus:py-2 focus:text-sm focus:font-semibold focus:shadow"
        >
          Skip to content
        </a>
        <header className="border-b border-slate-200 bg-white">
          <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-2 px-4 py-3 sm:px-6">
            <div className="flex items-center gap-3">
              <Link href="/" className="rounded-md">
                <Logo />
              </Link>
              <WorkerBadge />
            </div>
            <div className="flex items-center gap-0.5 sm:gap-3">
              <nav aria-label="Main" className="flex items-center gap-0.5 sm:gap-3">
                <Link
                  href="/"
                  className="rounded-md px-2 py-2 text-sm font-medium whitespace-nowrap text-slate-700 hover:text-slate-950"
                >
                  Campaigns
                </Link>
                <Link
                  href="/suppressions"
                  className="rounded-md px-2 py-2 text-sm font-medium whitespace-nowrap text-slate-700 hover:text-slate-950"
                >
                  Suppressions
                </Link>
                <SystemNavLink />
                <NewCampaignLink />
              </nav>
              <AccountMenu />
            </div>
          </div>
        </header>
        <ApiStatusBanner />
        <main id="main" className="mx-auto max-w-6xl px-4 py-6 sm:px-6 sm:py-8">
          {children}
        </main>
      </HydrationBoundary>
    </QueryProvider>
  );
}
