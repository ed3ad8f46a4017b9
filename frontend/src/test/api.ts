import { vi } from "vitest";

import type * as ClientModule from "@/lib/api/client";
import { ApiStatusStore } from "@/lib/api/status";

/**
 * What the mocked API client sends its requests to: each test answers them (see
 * `mockedApiClient`). One instance for the test file and the mock, since both import this
 * module.
 */
export const fetchMock = vi.fn<(request: Request) => Promise<Response>>();

/**
 * `@/lib/api/client` with its `api()` talking to `fetchMock`, for
 * `vi.mock("@/lib/api/client", async (actual) => (await import("@/test/api")).mockedApiClient(actual))`
 * (a factory may only reach other modules through a dynamic import: `vi.mock` is hoisted
 * above the file's imports).
 */
export async function mockedApiClient(importActual: <T>() => Promise<T>) {
  const actual = await importActual<typeof ClientModule>();
  const client = actual.createPalomaClient({
    baseUrl: "http://paloma.test",
    fetch: (request) => fetchMock(request),
    status: new ApiStatusStore(),
  });
  return { ...actual, api: () => client };
}
