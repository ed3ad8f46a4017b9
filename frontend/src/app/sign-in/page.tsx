import type { Metadata } from "next";

import { Logo } from "@/components/Logo";
import { SignInForm } from "@/components/SignInForm";
import { safeNextPath } from "@/lib/session";

export const metadata: Metadata = { title: "Sign in" };

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export default async function SignInPage({ searchParams }: PageProps<"/sign-in">) {
  const query = await searchParams;
  const next = safeNextPath(first(query.next));
  const expired = first(query.expired) === "1";
  return (
    <main id="main" className="flex min-h-dvh items-start justify-center px-4 py-16 sm:py-24">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex justify-center">
          <Logo />
        </div>
        <div className="rounded-lg border border-slate-200 bg-white p-6 shadow-xs">
          <h1 className="text-xl font-bold tracking-tight text-slate-900">Sign in</h1>
          <p className="mt-1 mb-5 text-sm text-slate-600">
            Paste an API key. Whoever runs Paloma can make one with{" "}
            <code className="font-mono text-xs">paloma-api keys create</code>.
          </p>
          {expired && (
            <p
              role="status"
              className="mb-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950"
            >
              Your session has ended. Sign in again.
            </p>
          )}
          <SignInForm next={next} />
        </div>
      </div>
    </main>
  );
}
