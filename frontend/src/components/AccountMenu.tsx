"use client";

import { useMe } from "@/lib/queries";

/**
 * The signed-in key's name, and "Sign out": a plain form POST to /sign-out, which removes the
 * session cookie and sends the browser to /sign-in with a full page load.
 */
export function AccountMenu() {
  const me = useMe();
  return (
    <div className="flex items-center gap-2 border-l border-slate-200 pl-2 sm:pl-3">
      {me && (
        <p className="hidden max-w-40 truncate text-sm text-slate-600 sm:block" title={me.name}>
          <span className="sr-only">Signed in as </span>
          <span className="font-medium text-slate-900" data-testid="key-name">
            {me.name}
          </span>
        </p>
      )}
      <form action="/sign-out" method="post">
        <button
          type="submit"
          className="rounded-md px-2 py-2 text-sm font-medium whitespace-nowrap text-slate-700 hover:text-slate-950"
        >
          Sign out
        </button>
      </form>
    </div>
  );
}
