"use client";

import { useCallback, useEffect, useEffectEvent, useRef, useState } from "react";

import { ApiError, isAbortError } from "./api/errors";

/** How often live data is refreshed. */
export const POLL_INTERVAL_MS = 1500;
/** How often a failed call is retried, so the page recovers by itself. */
export const RETRY_INTERVAL_MS = 2000;

export interface PollOptions<T> {
  /** Whether to call again after this answer (e.g. while a campaign is still sending). */
  keepPolling?: (data: T) => boolean;
  intervalMs?: number;
  retryIntervalMs?: number;
  /** Calls nothing while false. */
  enabled?: boolean;
  /** Called with every answer, e.g. to record samples. */
  onData?: (data: T) => void;
  /** Whether to try again after an error; by default, unless the API answered 4xx. */
  retryOnError?: (error: ApiError) => boolean;
}

export interface Polled<T> {
  /** The latest answer; kept while a new key loads and while calls fail. */
  data: T | undefined;
  /** The latest call's error, cleared by the next success. */
  error: ApiError | undefined;
  /** True until the first answer (or error) for the current key. */
  loading: boolean;
  /** True while the data is expected to change and is refreshed on a timer. */
  live: boolean;
  /** Calls again now. */
  refresh: () => void;
}

interface State<T> {
  key: string | null;
  data: T | undefined;
  error: ApiError | undefined;
  live: boolean;
}

/** Retries failures that may pass by themselves: no answer, 5xx, 408 and 429. */
export function isTransient(error: ApiError): boolean {
  return (
    error.status === 0 || error.status >= 500 || error.status === 408 || error.status === 429
  );
}

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, "network_error", "The server cannot be reached.");
}

/**
 * Loads `key` with `load`, then calls again every `intervalMs` while `keepPolling` says so, and
 * every `retryIntervalMs` after a failure that may pass (see `retryOnError`). One call at a
 * time; the answers of a previous key are ignored.
 * When polling has stopped, regaining focus refreshes once.
 */
export function usePolled<T>(
  key: string,
  load: () => Promise<T>,
  options: PollOptions<T> = {},
): Polled<T> {
  const {
    keepPolling,
    intervalMs = POLL_INTERVAL_MS,
    retryIntervalMs = RETRY_INTERVAL_MS,
    enabled = true,
    onData,
    retryOnError = isTransient,
  } = options;
  const [state, setState] = useState<State<T>>({
    key: null,
    data: undefined,
    error: undefined,
    live: false,
  });
  const trigger = useRef<(() => void) | null>(null);

  const runLoad = useEffectEvent(() => load());
  const shouldKeepPolling = useEffectEvent((data: T) => (keepPolling ? keepPolling(data) : false));
  const shouldRetry = useEffectEvent((error: ApiError) => retryOnError(error));
  const received = useEffectEvent((data: T) => onData?.(data));

  useEffect(() => {
    if (!enabled) return;
    let disposed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    let polling = true;

    const tick = async () => {
      if (disposed || inFlight) return;
      clearTimeout(timer);
      inFlight = true;
      try {
        const data = await runLoad();
        if (disposed) return;
        polling = shouldKeepPolling(data);
        received(data);
        setState({ key, data, error: undefined, live: polling });
        if (polling) timer = setTimeout(tick, intervalMs);
      } catch (error) {
        if (disposed || isAbortError(error)) return;
        const apiError = asApiError(error);
        polling = shouldRetry(apiError);
        setState((prev) => ({
          key,
          data: prev.key === key ? prev.data : undefined,
          error: apiError,
          live: prev.live,
        }));
        if (polling) timer = setTimeout(tick, retryIntervalMs);
      } finally {
        inFlight = false;
      }
    };

    const onFocus = () => {
      if (!polling && document.visibilityState === "visible") void tick();
    };

    trigger.current = () => void tick();
    void tick();
    window.addEventListener("focus", onFocus);
    document.addEventListener("visibilitychange", onFocus);
    return () => {
      disposed = true;
      clearTimeout(timer);
      // A call in flight is left to finish and its answer ignored, not aborted: cancelling a
      // request mid-query has been seen to leave a broken connection in the API's MySQL pool.
      window.removeEventListener("focus", onFocus);
      document.removeEventListener("visibilitychange", onFocus);
      trigger.current = null;
    };
  }, [key, enabled, intervalMs, retryIntervalMs]);

  const refresh = useCallback(() => trigger.current?.(), []);

  const current = state.key === key;
  return {
    data: state.data,
    error: current ? state.error : undefined,
    loading: enabled && !current,
    live: current && state.live,
    refresh,
  };
}
