"use client";

import Link from "next/link";

import { formatCount } from "@/lib/format";
import {
  WORKER_COUNT_POLL_INTERVAL_MS,
  queries,
  queueQuery,
  useApiQuery,
  useMe,
} from "@/lib/queries";
import { can } from "@/lib/scopes";

/** "No worker", "1 worker", "3 workers". */
export function workerCountLabel(n: number): string {
  if (n === 0) return "No worker";
  return `${formatCount(n)} ${n === 1 ? "worker" : "workers"}`;
}

/**
 * How many workers are alive, in the header next to the logo (where a phone has room for it),
 * linking to the System page; read every 10 s (every
 * 2 s on the System page, which reads the same data), for a key with `campaigns:read`. Its box
 * has its width before the count is known, so that the header does not move when it arrives.
 */
export function WorkerBadge() {
  const allowed = can(useMe(), "campaigns:read");
  const { data } = useApiQuery({
    ...queueQuery(queries(), WORKER_COUNT_POLL_INTERVAL_MS),
    enabled: allowed,
  });
  if (!allowed) return null;
  const count = data?.workers.length;
  return (
    <span className="inline-flex w-28 shrink-0">
      {count !== undefined && (
        <Link
          href="/system"
          data-testid="worker-badge"
          title="Workers alive: see the System page"
          className={`inline-flex min-h-8 items-center gap-1.5 rounded-full px-2.5 text-xs font-semibold whitespace-nowrap ring-1 ring-inset ${
            count > 0
              ? "bg-emerald-50 text-emerald-800 ring-emerald-300 hover:bg-emerald-100"
              : "bg-amber-50 text-amber-900 ring-amber-400 hover:bg-amber-100"
          }`}
        >
          <span
            aria-hidden="true"
            className={`size-2 rounded-full ${count > 0 ? "bg-emerald-600" : "bg-amber-500"}`}
          />
          {workerCountLabel(count)}
        </Link>
      )}
    </span>
  );
}

/**
 * "System" in the header's navigation, for a key that may read the queue (`campaigns:read`).
 * Not on a phone, where the menu has no room for it: the worker badge leads there.
 */
export function SystemNavLink() {
  if (!can(useMe(), "campaigns:read")) return null;
  return (
    <Link
      href="/system"
      className="hidden rounded-md px-2 py-2 text-sm font-medium whitespace-nowrap text-slate-700 hover:text-slate-950 sm:inline-block"
    >
      System
    </Link>
  );
}
