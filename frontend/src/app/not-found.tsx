import Link from "next/link";

import { Logo } from "@/components/Logo";
import { buttonSecondary } from "@/components/ui";

export default function NotFound() {
  return (
    <main id="main" className="mx-auto max-w-6xl px-4 py-6 sm:px-6 sm:py-8">
      <Link href="/" className="mb-6 inline-block rounded-md">
        <Logo />
      </Link>
      <div className="rounded-lg border border-slate-200 bg-white px-6 py-12 text-center">
        <h1 className="text-xl font-semibold text-slate-900">Page not found</h1>
        <p className="mt-1 text-sm text-slate-600">There is nothing at this address.</p>
        <Link href="/" className={`${buttonSecondary} mt-5`}>
          Back to the campaigns
        </Link>
      </div>
    </main>
  );
}
