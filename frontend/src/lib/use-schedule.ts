import { useEffect, useState, useSyncExternalStore } from "react";

import { browserTimeZone } from "./schedule";

const never = () => () => {};

/**
 * The browser's time zone ("Europe/Madrid"); null while rendering on the server and hydrating,
 * where it is not known (the server's own zone may differ), so the first render matches.
 */
export function useTimeZone(): string | null {
  return useSyncExternalStore(never, browserTimeZone, () => null);
}

/** The longest delay `setTimeout` keeps (about 24.8 days); longer ones fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Whether the instant `iso` has passed; turns true by itself when it does. False for no instant.
 */
export function usePassed(iso: string | null | undefined): boolean {
  const at = iso ? Date.parse(iso) : NaN;
  const [state, setState] = useState(() => ({ at, passed: at <= Date.now() }));
  // Another instant (rescheduled): whether it has passed is read again, by the effect below.
  if (state.at !== at && !(Number.isNaN(state.at) && Number.isNaN(at))) {
    setState({ at, passed: false });
  }
  useEffect(() => {
    if (Number.isNaN(at) || state.passed) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      const left = at - Date.now();
      if (left <= 0) setState({ at, passed: true });
      else timer = setTimeout(arm, Math.min(left, MAX_TIMEOUT_MS));
    };
    arm();
    return () => clearTimeout(timer);
  }, [at, state.passed]);
  return state.passed && state.at === at;
}
