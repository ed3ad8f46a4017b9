"use client";

import { keepPreviousData, useQueryClient } from "@tanstack/react-query";
import Form from "next/form";
import { useState } from "react";

import { api } from "@/lib/api/client";
import { ApiError, unwrap } from "@/lib/api/errors";
import type { Suppression, SuppressionReason as Reason } from "@/lib/api/types";
import { formatDateTime, plural } from "@/lib/format";
import { queries, suppressionPageQuery, useApiQuery, useMe } from "@/lib/queries";
import { can } from "@/lib/scopes";

import { ConfirmPrompt } from "./ConfirmAction";
import { Pagination } from "./Pagination";
import { LoadFailed, PageLoading, buttonPrimary, buttonSecondary } from "./ui";

const REASONS: Record<Reason, string> = {
  UNSUBSCRIBED: "Unsubscribed",
  HARD_BOUNCE: "Hard bounce",
  MANUAL: "Added by hand",
};

/** The page's URL for a search and a page number. */
export function suppressionsHref(search: string | undefined, page = 1): string {
  const params = new URLSearchParams();
  if (search) params.set("search", search);
  if (page > 1) params.set("page", String(page));
  const query = params.toString();
  return query ? `/suppressions?${query}` : "/suppressions";
}

/** The addresses of a textarea: one per line or separated by commas, blanks dropped. */
export function parseAddresses(text: string): string[] {
  return text
    .split(/[\n,;]/)
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
}

function failure(error: unknown, action: string): string {
  if (!(error instanceof ApiError)) return `The address could not be ${action}. Try again.`;
  if (error.status === 403) return "Your key may not change the suppression list.";
  if (error.unreachable) return "The Paloma API cannot be reached. Try again.";
  if (error.status === 422 && error.details && "invalidRecipients" in error.details) {
    const bad = error.details.invalidRecipients
      .map((r) => `line ${r.index + 1} (${r.value}): ${r.reason}`)
      .join("; ");
    return `Nothing was added: ${bad || error.message}`;
  }
  return error.message;
}

/** Addresses to add by hand, for a key that may send campaigns. */
function AddAddresses({ onChanged }: { onChanged: () => Promise<void> }) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);

  async function add(event: React.FormEvent) {
    event.preventDefault();
    const emails = parseAddresses(text);
    if (emails.length === 0) return;
    setBusy(true);
    setError(null);
    setOutcome(null);
    try {
      const answer = await unwrap(api().POST("/api/suppressions", { body: { emails } }));
      setOutcome(
        `${plural(answer.added, "address", "addresses")} added` +
          (answer.alreadySuppressed > 0
            ? `, ${plural(answer.alreadySuppressed, "address was", "addresses were")} already on the list.`
            : "."),
      );
      setText("");
      await onChanged();
    } catch (caught) {
      setError(failure(caught, "added"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={(e) => void add(e)} className="mb-6 rounded-lg border border-slate-200 bg-white p-4">
      <label htmlFor="suppress-addresses" className="block text-sm font-semibold text-slate-900">
        Add addresses
      </label>
      <p className="mt-1 text-sm text-slate-600">One per line or separated by commas; at most 1,000.</p>
      <textarea
        id="suppress-addresses"
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={3}
        className="mt-2 w-full rounded-md border border-slate-300 px-3 py-2 text-sm"
      />
      {error && (
        <p role="alert" className="mt-2 text-sm font-medium text-red-800">
          {error}
        </p>
      )}
      {outcome && (
        <p role="status" className="mt-2 text-sm text-slate-700">
          {outcome}
        </p>
      )}
      <button type="submit" className={`${buttonPrimary} mt-3`} disabled={busy || text.trim() === ""}>
        Add to the list
      </button>
    </form>
  );
}

/** One listed address, with "Remove" (and its confirmation) for a key that may send. */
function Row({
  entry,
  canChange,
  onChanged,
}: {
  entry: Suppression;
  canChange: boolean;
  onChanged: () => Promise<void>;
}) {
  const [step, setStep] = useState<"idle" | "confirm" | "removing">("idle");
  const [error, setError] = useState<string | null>(null);

  async function remove() {
    setStep("removing");
    setError(null);
    try {
      await unwrap(
        api().DELETE("/api/suppressions/{email}", { params: { path: { email: entry.email } } }),
      );
      await onChanged();
    } catch (caught) {
      setError(failure(caught, "removed"));
      setStep("idle");
    }
  }

  return (
    <li className="flex flex-wrap items-center gap-3 px-4 py-3 text-sm">
      <span className="min-w-0 flex-1 font-medium break-all text-slate-900">{entry.email}</span>
      <span className="text-slate-600">{REASONS[entry.reason]}</span>
      <time dateTime={entry.createdAt} className="text-slate-600 tabular-nums">
        {formatDateTime(entry.createdAt)}
      </time>
      {canChange &&
        (step === "idle" ? (
          <button type="button" className={buttonSecondary} onClick={() => setStep("confirm")}>
            Remove
          </button>
        ) : (
          <div className="flex w-full flex-wrap items-center gap-3">
            <ConfirmPrompt
              confirmLabel="Yes, remove"
              tone="danger"
              busy={step === "removing"}
              onConfirm={() => void remove()}
              onDismiss={() => setStep("idle")}
            >
              <p>{entry.email} may get messages again.</p>
            </ConfirmPrompt>
          </div>
        ))}
      {error && (
        <p role="alert" className="w-full font-medium text-red-800">
          {error}
        </p>
      )}
    </li>
  );
}

/**
 * The suppression list: addresses that get no more messages, newest first, searchable (a GET
 * form, so the search lives in the URL). Adding and removing addresses are shown only to a key
 * with `campaigns:send`.
 */
export function SuppressionList({ page, search }: { page: number; search?: string }) {
  const canChange = can(useMe(), "campaigns:send");
  const queryClient = useQueryClient();
  const query = useApiQuery({
    ...suppressionPageQuery(queries(), page, search), placeholderData: keepPreviousData });
  const changed = () =>
    queryClient.invalidateQueries({
      predicate: (q) => JSON.stringify(q.queryKey).includes("/api/suppressions"),
    });

  return (
    <>
      {canChange && <AddAddresses onChanged={changed} />}
      <Form role="search" action="/suppressions" className="mb-4 flex gap-2">
        <label htmlFor="suppression-search" className="sr-only">
          Search addresses
        </label>
        <input
          id="suppression-search"
          type="search"
          name="search"
          defaultValue={search ?? ""}
          maxLength={254}
          placeholder="Search addresses"
          className="w-64 rounded-md border border-slate-300 px-3 py-1.5 text-sm"
        />
        <button type="submit" className={buttonSecondary}>
          Search
        </button>
      </Form>
      {query.data ? (
        query.data.items.length === 0 ? (
          <p className="rounded-lg border border-slate-200 bg-white px-6 py-10 text-center text-sm text-slate-700">
            {search ? "No address matches." : "No address is suppressed."}
          </p>
        ) : (
          <>
            <p className="mb-2 text-sm text-slate-600">
              {plural(query.data.total, "address", "addresses")}
            </p>
            <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white">
              {query.data.items.map((entry) => (
                <Row key={entry.email} entry={entry} canChange={canChange} onChanged={changed} />
              ))}
            </ul>
            <Pagination
              page={page}
              totalPages={query.data.totalPages}
              hrefFor={(p) => suppressionsHref(search, p)}
              label="Suppression list pages"
            />
          </>
        )
      ) : query.error ? (
        <LoadFailed
          title="The suppression list could not be loaded."
          message={query.error.unreachable ? "The Paloma API cannot be reached." : query.error.message}
          onRetry={() => void query.refetch()}
        />
      ) : (
        <PageLoading label="Loading the suppression list" />
      )}
    </>
  );
}
