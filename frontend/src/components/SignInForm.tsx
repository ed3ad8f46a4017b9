"use client";

import { useActionState, useId } from "react";

import { signIn, type SignInState } from "@/app/sign-in/actions";

import { buttonPrimary, ButtonSpinner } from "./ui";

const INITIAL: SignInState = { error: null };

/** The API key field; the key goes to the dashboard's server only (see app/sign-in/actions.ts). */
export function SignInForm({ next }: { next: string }) {
  const [state, action, pending] = useActionState(signIn, INITIAL);
  const errorId = useId();
  return (
    <form action={action} className="space-y-4" aria-busy={pending}>
      <input type="hidden" name="next" value={next} />
      <div>
        <label htmlFor="api-key" className="block text-sm font-medium text-slate-900">
          API key
        </label>
        <input
          id="api-key"
          name="key"
          type="password"
          required
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          placeholder="pal_…"
          aria-invalid={state.error ? true : undefined}
          aria-describedby={state.error ? errorId : undefined}
          className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 font-mono text-sm text-slate-900 shadow-xs focus:border-blue-600 focus:outline-2 focus:outline-blue-600 aria-invalid:border-red-600"
        />
      </div>
      {state.error && (
        <p
          id={errorId}
          role="alert"
          className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm font-medium text-red-900"
        >
          {state.error}
        </p>
      )}
      <button type="submit" className={`${buttonPrimary} w-full`} disabled={pending}>
        {pending && (
          <ButtonSpinner />
        )}
        Sign in
      </button>
    </form>
  );
}
