import { QueryClientProvider, notifyManager, type QueryClient } from "@tanstack/react-query";
import { render } from "@testing-library/react";

import { makeQueryClient } from "@/lib/queries";

/**
 * Renders `ui` inside a fresh query cache with the app's own defaults: the retry of transient
 * failures and the refresh intervals are behaviour under test, so they are not turned off here
 * (the tests drive them with fake timers).
 */
export function renderWithQueries(
  ui: React.ReactElement,
  /** Fills the cache first, e.g. with the signed-in key (see ./me.ts). */
  prepare?: (client: QueryClient) => void,
) {
  // TanStack Query tells components about new answers on a `setTimeout(0)`, which fake timers
  // push 1 ms past the end of the tick that scheduled it; a microtask delivers them at once.
  notifyManager.setScheduler(queueMicrotask);
  const client = makeQueryClient();
  prepare?.(client);
  const result = render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
  return { ...result, client };
}
