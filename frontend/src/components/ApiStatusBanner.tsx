"use client";

import { useSyncExternalStore } from "react";

import { apiStatus, type ApiHealth, type ApiStatusStore } from "@/lib/api/status";

const SERVER_SNAPSHOT: ApiHealth = { state: "ok" };

/**
 * A banner while the API cannot be reached (or is unavailable). It goes away by itself as soon
 * as a call succeeds again; pages keep retrying meanwhile.
 */
export function ApiStatusBanner({ store = apiStatus }: { store?: ApiStatusStore }) {
  const health = useSyncExternalStore(store.subscribe, store.getSnapshot, () => SERVER_SNAPSHOT);
  if (health.state === "ok") return null;
  const unreachable = health.state === "unreachable";
  return (
    <div
      role="alert"
      className="border-b border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-950"
    >
      <div className="mx-auto flex max-w-6xl items-start gap-3">
        <svg
          aria-hidden="true"
          viewBox="0 0 20 20"
          fill="currentColor"
          className="mt-0.5 size-5 shrink-0 text-amber-600"
        >
          <path
            fillRule="evenodd"
            d="M8.485 2.495c.673-1.167 2.357-1.167 3.03 0l6.28 10.875c.673 1.167-.17 2.625-1.516 2.625H3.72c-1.347 0-2.189-1.458-1.515-2.625L8.485 2.495ZM10 6a.75.75 0 0 1 .75.75v3.5a.75.75 0 0 1-1.5 0v-3.5A.75.75 0 0 1 10 6Zm0 9a1 1 0 1 0 0-2 1 1 0 0 0 0 2Z"
            clipRule="evenodd"
          />
        </svg>
        <p>
          <strong className="font-semibold">
            {unreachable ? "The Paloma API cannot be reached." : "The Paloma API is unavailable."}
          </strong>{" "}
          {unreachable
            ? "The figures on this page may be out of date. Retrying automatically…"
            : "A service it depends on is down. Retrying automatically…"}
        </p>
      </div>
    </div>
  );
}
