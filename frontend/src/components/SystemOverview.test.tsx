import { act, cleanup, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { QueueOverview, Worker } from "@/lib/api/types";

vi.mock("@/lib/api/client", async (importActual) =>
  (await import("@/test/api")).mockedApiClient(importActual),
);

import { fetchMock } from "@/test/api";

import { renderWithQueries } from "@/test/render";

import { SystemOverview } from "./SystemOverview";

const CAMPAIGN = "0190c7c4-0000-7000-8000-000000000001";
const NOW = Date.parse("2026-12-01T04:37:00Z");

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function worker(overrides: Partial<Worker> = {}): Worker {
  return {
    id: "1234-18f",
    host: "box",
    pid: 1234,
    startedAt: "2026-12-01T04:00:00Z",
    lastBeatAt: "2026-12-01T04:36:58Z",
    campaigns: [CAMPAIGN],
    messagesPerSecond: 812.5,
    concurrency: 20,
    ...overrides,
  };
}

function queue(workers: Worker[]): QueueOverview {
  return {
    counts: { waiting: 3, active: 1, delayed: 2, failed: 4, completed: 57, paused: 0 },
    workers,
  };
}

/** Answers the queue with `answers` in turn (the last one from then on), and campaigns by id. */
function serve(...answers: (() => Response)[]) {
  let call = 0;
  fetchMock.mockImplementation(async (request) => {
    const path = new URL(request.url).pathname;
    if (path === `/api/emails/${CAMPAIGN}`) {
      return json(200, { id: CAMPAIGN, subject: "Winter sale", status: "PROCESSING" });
    }
    if (path !== "/api/queue") throw new Error(`unexpected call to ${path}`);
    const answer = answers[Math.min(call, answers.length - 1)]!;
    call += 1;
    return answer();
  });
}

function queueCalls(): number {
  return fetchMock.mock.calls.filter(([r]) => new URL(r.url).pathname === "/api/queue").length;
}

async function advance(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

/** The figure under the label `label` of the Queue card. */
function count(label: string): string | null {
  const queueCard = screen.getByRole("region", { name: "Queue" });
  const term = within(queueCard).getByText(label, { selector: "dt" });
  return term.nextElementSibling?.textContent ?? null;
}

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"],
  });
  vi.setSystemTime(NOW);
  fetchMock.mockReset();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe("SystemOverview", () => {
  it("shows the job counts by state and each live worker", async () => {
    const idle = worker({ id: "99-1", host: "other", pid: 99, campaigns: [], messagesPerSecond: 0 });
    serve(() => json(200, queue([worker(), idle])));
    renderWithQueries(<SystemOverview />);
    await advance(0);

    expect(count("Waiting")).toBe("3");
    expect(count("Active")).toBe("1");
    expect(count("Delayed")).toBe("2");
    expect(count("Failed")).toBe("4");
    expect(count("Completed")).toBe("57");
    expect(count("Paused")).toBe("0");

    const table = screen.getByRole("table", { name: /Live workers/ });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(2);
    const cells = within(rows[0]!)
      .getAllByRole("cell")
      .map((c) => c.textContent);
    expect(within(rows[0]!).getByRole("rowheader").textContent).toBe("box");
    // PID, up since, last beat, campaigns, messages/s, concurrency.
    expect(cells).toEqual(["1234", "37 min ago", "2 s ago", "Winter sale", "812.5 / s", "20"]);
    expect(within(rows[0]!).getByRole("link", { name: "Winter sale" }).getAttribute("href")).toBe(
      `/campaigns/${CAMPAIGN}`,
    );
    expect(within(rows[1]!).getByRole("rowheader").textContent).toBe("other");
    expect(rows[1]!.textContent).toContain("Idle");
    expect(screen.getByRole("heading", { name: "Workers (2)" })).toBeTruthy();
    expect(screen.queryByText(/No worker is running/)).toBeNull();
  });

  it("says that no worker is running, and still shows the counts", async () => {
    serve(() => json(200, queue([])));
    renderWithQueries(<SystemOverview />);
    await advance(0);

    expect(screen.getByText(/No worker is running/).textContent).toBe(
      "No worker is running: campaigns wait in the queue until one starts (paloma-worker).",
    );
    expect(screen.queryByRole("table")).toBeNull();
    expect(count("Waiting")).toBe("3");
    expect(screen.getByTestId("send-rate-caption").textContent).toContain("0 / s now");
  });

  it("says the queue cannot be read while the API answers 503, and recovers by itself", async () => {
    serve(
      () => json(503, { error: { code: "service_unavailable", message: "redis is unavailable" } }),
      () => json(200, queue([worker()])),
    );
    renderWithQueries(<SystemOverview />);
    await advance(0);

    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("The queue cannot be read right now.");
    expect(alert.textContent).toContain("HTTP 503");
    expect(screen.queryByRole("region", { name: "Queue" })).toBeNull();

    // Retried after 2 s: the next answer is a good one.
    await advance(2000);
    expect(queueCalls()).toBe(2);
    expect(screen.queryByRole("alert")).toBeNull();
    expect(count("Completed")).toBe("57");
  });

  it("samples the summed rate of the workers at each read, every 2 s", async () => {
    let rate = 10;
    serve(() => {
      rate += 10;
      const workers = [worker({ messagesPerSecond: rate }), worker({ id: "2", messagesPerSecond: 5 })];
      return json(200, queue(workers));
    });
    renderWithQueries(<SystemOverview />);
    await advance(0);

    const chart = () => screen.getByTestId("send-rate-chart");
    const caption = () => screen.getByTestId("send-rate-caption").textContent;
    expect(chart().getAttribute("data-samples")).toBe("1");
    expect(caption()).toContain("25 / s now");

    await advance(2000);
    expect(queueCalls()).toBe(2);
    expect(chart().getAttribute("data-samples")).toBe("2");
    expect(caption()).toContain("35 / s now, at most 35 / s");
    expect(chart().querySelector("polyline")?.getAttribute("points")?.split(" ")).toHaveLength(2);

    await advance(2000);
    expect(chart().getAttribute("data-samples")).toBe("3");
    expect(caption()).toContain("45 / s now");
  });
});
