import type { Metadata, Viewport } from "next";
import Link from "next/link";

import { ApiStatusBanner } from "@/components/ApiStatusBanner";
import { QueryProvider } from "@/components/QueryProvider";

import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Paloma", template: "%s · Paloma" },
  description: "Send mass email campaigns and follow their delivery live.",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  themeColor: "#1d4ed8",
};

export default function RootLayout({ children }: Readonly<{ children: React.ReactNode }>) {
  return (
    <html lang="en">
      <body className="min-h-dvh font-sans">
        <a
          href="#main"
          className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded-md focus:bg-white focus:px-3 focus:py-2 focus:text-sm focus:font-semibold focus:shadow"
        >
          Skip to content
        </a>
        <header className="border-b border-slate-200 bg-white">
          <div className="mx-auto flex max-w-6xl items-center justify-between gap-2 px-4 py-3 sm:px-6">
            <Link
              href="/"
              className="flex items-center gap-2 rounded-md text-lg font-bold tracking-tight text-slate-900"
            >
              <svg aria-hidden="true" viewBox="0 0 24 24" className="size-6 text-blue-700 sm:size-7">
                <path
                  fill="currentColor"
                  d="M2.5 5.5A2.5 2.5 0 0 1 5 3h14a2.5 2.5 0 0 1 2.5 2.5v13A2.5 2.5 0 0 1 19 21H5a2.5 2.5 0 0 1-2.5-2.5v-13Zm2.2.1 6.7 5.6a1 1 0 0 0 1.2 0l6.7-5.6a.9.9 0 0 0-.3-.1H5a.9.9 0 0 0-.3.1Zm14.8 1.9-6 5a2.5 2.5 0 0 1-3.1 0l-6-5v11A.5.5 0 0 0 5 19h14a.5.5 0 0 0 .5-.5v-11Z"
                />
              </svg>
              Paloma
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
            </nav>
          </div>
        </header>
        <ApiStatusBanner />
        <main id="main" className="mx-auto max-w-6xl px-4 py-6 sm:px-6 sm:py-8">
          <QueryProvider>{children}</QueryProvider>
        </main>
      </body>
    </html>
  );
}
