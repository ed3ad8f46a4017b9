import Link from "next/link";

import { ApiStatusBanner } from "@/components/ApiStatusBanner";
import { Logo } from "@/components/Logo";
import { QueryProvider } from "@/components/QueryProvider";

/** The signed-in part of the dashboard; /sign-in has a page of its own. */
export default function DashboardLayout({ children }: Readonly<{ children: React.ReactNode }>) {
  return (
    <>
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded-md focus:bg-white focus:px-3 focus:py-2 focus:text-sm focus:font-semibold focus:shadow"
      >
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl items-center justify-between gap-2 px-4 py-3 sm:px-6">
          <Link href="/" className="rounded-md">
            <Logo />
          </Link>
          <nav aria-label="Main" className="flex items-center gap-0.5 sm:gap-3">
            <Link
              href="/"
              className="rounded-md px-2 py-2 text-sm font-medium whitespace-nowrap text-slate-700 hover:text-slate-950"
            >
              Campaigns
            </Link>
            <Link
              href="/campaigns/new"
              className="inline-flex min-h-10 items-center rounded-md bg-blue-700 px-2.5 text-sm font-semibold whitespace-nowrap sm:px-3 text-white shadow-xs hover:bg-blue-800"
            >
              New campaign
            </Link>
            <form action="/sign-out" method="post">
              <button
                type="submit"
                className="rounded-md px-2 py-2 text-sm font-medium whitespace-nowrap text-slate-700 hover:text-slate-950"
              >
                Sign out
              </button>
            </form>
          </nav>
        </div>
      </header>
      <ApiStatusBanner />
      <main id="main" className="mx-auto max-w-6xl px-4 py-6 sm:px-6 sm:py-8">
        <QueryProvider>{children}</QueryProvider>
      </main>
    </>
  );
}
