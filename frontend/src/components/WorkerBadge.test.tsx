import { act, cleanup, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { QueueOverview, Worker } from "@/lib/api/types";

vi.mock("@/lib/api/client", async (importActual) =>
  (await import("@/test/api")).mockedApiClient(importActual),
);

import { fetchMock } from "@/test/api";

import { key, signIn } from "@/test/me";
import { renderWithQueries } from "@/test/render";

import { SystemNavLink, WorkerBadge, workerCountLabel } from "./WorkerBadge";

function worker(id: string): Worker {
  return {
    id,
    host: "box",
    pid: 1,
    startedAt: "2026-12-01T04:00:00Z",
    lastBeatAt: "2026-12-01T04:36:58Z",
    campaigns: [],
    messagesPerSecond: 0,
    concurrency: 2,
  };
}

function answer(workers: Worker[]): Response {
  const body: QueueOverview = {
    counts: { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0, paused: 0 },
    workers,
  };
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { "content-type": "application/json" },
  });
}

async function advance(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

const READER = key("reader", ["campaigns:read"]);

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"],
  });
  fetchMock.mockReset();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe("workerCountLabel", () => {
  it("says no worker, one worker, or how many", () => {
    expect(workerCountLabel(0)).toBe("No worker");
    expect(workerCountLabel(1)).toBe("1 worker");
    expect(workerCountLabel(2)).toBe("2 workers");
  });
});

describe("the header's worker badge", () => {
  it.each([
    ["No worker", []],
    ["1 worker", [worker("a")]],
    ["2 workers", [worker("a"), worker("b")]],
  ])("says %s, read from the queue, linking to the System page", async (label, workers) => {
    fetchMock.mockResolvedValue(answer(workers));
    renderWithQueries(<WorkerBadge />, (c) => signIn(c, READER));
    await advance(0);

    const badge = screen.getByRole("link", { name: label });
    expect(badge.getAttribute("href")).toBe("/system");
    expect(new URL(fetchMock.mock.calls[0]![0].url).pathname).toBe("/api/queue");
  });

  it("follows the count, read again every 10 s", async () => {
    fetchMock.mockResolvedValueOnce(answer([worker("a")])).mockResolvedValue(answer([]));
    renderWithQueries(<WorkerBadge />, (c) => signIn(c, READER));
    await advance(0);
    expect(screen.getByTestId("worker-badge").textContent).toBe("1 worker");

    await advance(9000);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    await advance(1000);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(screen.getByTestId("worker-badge").textContent).toBe("No worker");
  });

  it("keeps its room while the count is not known yet", async () => {
    fetchMock.mockReturnValue(new Promise<Response>(() => {}));
    const { container } = renderWithQueries(<WorkerBadge />, (c) => signIn(c, READER));
    await advance(0);
    expect(screen.queryByTestId("worker-badge")).toBeNull();
    expect(container.firstElementChild?.className).toContain("w-28");
  });

  it("is hidden, and the queue not read, without campaigns:read; so is System in the menu", async () => {
    const writer = key("odd", ["campaigns:create"]);
    renderWithQueries(
      <>
        <SystemNavLink />
        <WorkerBadge />
      </>,
      (c) => signIn(c, writer),
    );
    await advance(15_000);
    expect(screen.queryByRole("link")).toBeNull();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("offers System in the menu to a key with campaigns:read", () => {
    fetchMock.mockReturnValue(new Promise<Response>(() => {}));
    renderWithQueries(<SystemNavLink />, (c) => signIn(c, READER));
    expect(screen.getByRole("link", { name: "System" }).getAttribute("href")).toBe("/system");
  });
});
