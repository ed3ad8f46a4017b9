import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// The browser's time zone, for every date this file reads or shows: set before anything formats
// one. Madrid is UTC+1 in winter.
const { push, savedTz } = vi.hoisted(() => {
  const savedTz = process.env.TZ;
  process.env.TZ = "Europe/Madrid";
  return {
    push: vi.fn(),
    savedTz,
  };
});

vi.mock("next/navigation", () => ({
  useRouter: () => ({ push, replace: vi.fn(), prefetch: vi.fn() }),
}));

vi.mock("@/lib/api/client", async (importActual) =>
  (await import("@/test/api")).mockedApiClient(importActual),
);

import { fetchMock } from "@/test/api";

import { NewCampaignForm } from "./NewCampaignForm";

/** 23:00 on Monday 30 November 2026 in Madrid. */
const NOW = Date.parse("2026-11-30T22:00:00Z");
const CREATED = "0190c7c4-0000-7000-8000-000000000021";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function describedText(element: HTMLElement): string {
  return (element.getAttribute("aria-describedby") ?? "")
    .split(" ")
    .map((id) => document.getElementById(id)?.textContent ?? "")
    .join(" ");
}

function fill() {
  fireEvent.change(screen.getByLabelText("Subject"), { target: { value: "Winter sale" } });
  fireEvent.change(screen.getByLabelText("HTML body"), { target: { value: "<p>Hi</p>" } });
  fireEvent.change(screen.getByLabelText("Recipients"), { target: { value: "a@example.org" } });
}

function sendLater(local: string) {
  fireEvent.click(screen.getByRole("radio", { name: "Send later" }));
  fireEvent.change(screen.getByLabelText("Send at"), { target: { value: local } });
}

async function sentBody(): Promise<Record<string, unknown>> {
  await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1));
  return (await fetchMock.mock.calls[0]![0].json()) as Record<string, unknown>;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
  fetchMock.mockReset();
  push.mockReset();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe("when to send a new campaign", () => {
  it("sends it now by default, without a send time", async () => {
    fetchMock.mockResolvedValueOnce(json(202, { id: CREATED }));
    render(<NewCampaignForm />);
    expect((screen.getByRole("radio", { name: "Send now" }) as HTMLInputElement).checked).toBe(true);
    expect(screen.queryByLabelText("Send at")).toBeNull();
    fill();
    fireEvent.click(screen.getByRole("button", { name: "Send campaign" }));
    expect(await sentBody()).not.toHaveProperty("scheduledAt");
  });

  it("schedules it at a time picked in the browser's time zone, sent in UTC", async () => {
    fetchMock.mockResolvedValueOnce(json(202, { id: CREATED }));
    render(<NewCampaignForm />);
    fill();
    fireEvent.click(screen.getByRole("radio", { name: "Send later" }));
    const picker = screen.getByLabelText("Send at") as HTMLInputElement;
    expect(picker.type).toBe("datetime-local");
    expect(describedText(picker)).toContain(
      "Times are in Europe/Madrid (your browser's time zone). At most a year ahead.",
    );
    // The picker offers from now to a year ahead, in Madrid's time.
    expect(picker.min).toBe("2026-11-30T23:00");
    expect(picker.max).toBe("2027-11-30T23:00");
    expect(screen.getByText("Ready to schedule for 1 recipient.")).toBeTruthy();

    fireEvent.change(picker, { target: { value: "2026-12-07T09:00" } });
    fireEvent.click(screen.getByRole("button", { name: "Schedule campaign" }));
    expect(await sentBody()).toMatchObject({
      subject: "Winter sale",
      scheduledAt: "2026-12-07T08:00:00.000Z",
    });
    await waitFor(() => expect(push).toHaveBeenCalledWith(`/campaigns/${CREATED}`));
  });

  it("reads summer time (two hours ahead of UTC) and seconds too", async () => {
    fetchMock.mockResolvedValueOnce(json(202, { id: CREATED }));
    render(<NewCampaignForm />);
    fill();
    sendLater("2027-07-01T09:30:15");
    fireEvent.click(screen.getByRole("button", { name: "Schedule campaign" }));
    expect((await sentBody()).scheduledAt).toBe("2027-07-01T07:30:15.000Z");
  });

  it("asks for a time in the future, within a year, before sending anything", () => {
    render(<NewCampaignForm />);
    fill();
    fireEvent.click(screen.getByRole("radio", { name: "Send later" }));
    const send = screen.getByRole("button", { name: "Schedule campaign" });
    const picker = () => screen.getByLabelText("Send at");

    fireEvent.click(send);
    expect(picker().getAttribute("aria-invalid")).toBe("true");
    expect(describedText(picker())).toContain("Choose the date and time to send it.");
    expect(document.activeElement).toBe(picker());

    // 23:00 in Madrid is now, so already past by the time it would arrive.
    fireEvent.change(picker(), { target: { value: "2026-11-30T23:00" } });
    expect(picker().getAttribute("aria-invalid")).toBeNull();
    fireEvent.click(send);
    expect(describedText(picker())).toContain("The time to send it must be in the future.");

    fireEvent.change(picker(), { target: { value: "2027-12-01T09:00" } });
    fireEvent.click(send);
    expect(describedText(picker())).toMatch(
      /The time to send it must be at most a year ahead, by Nov 30, 2027, 11:00\sPM\./,
    );
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("shows the server's refusal of the time on the picker, and focuses it", async () => {
    fetchMock.mockResolvedValueOnce(
      json(422, {
        error: {
          code: "validation_failed",
          message: "the campaign has invalid fields",
          details: {
            fields: [{ field: "scheduledAt", message: "the time to send it must be in the future" }],
          },
        },
      }),
    );
    render(<NewCampaignForm />);
    fill();
    sendLater("2026-11-30T23:00:30");
    fireEvent.click(screen.getByRole("button", { name: "Schedule campaign" }));
    const picker = screen.getByLabelText("Send at");
    await waitFor(() => expect(picker.getAttribute("aria-invalid")).toBe("true"));
    expect(describedText(picker)).toContain("The time to send it must be in the future.");
    expect(document.activeElement).toBe(picker);
    expect(screen.queryByRole("alert")).toBeNull();
    expect(push).not.toHaveBeenCalled();

    // Choosing another time clears it.
    fireEvent.change(picker, { target: { value: "2026-12-01T09:00" } });
    expect(picker.getAttribute("aria-invalid")).toBeNull();
  });

  it("forgets the picked time when sending now after all", async () => {
    fetchMock.mockResolvedValueOnce(json(202, { id: CREATED }));
    render(<NewCampaignForm />);
    fill();
    sendLater("2026-12-07T09:00");
    fireEvent.click(screen.getByRole("radio", { name: "Send now" }));
    expect(screen.queryByLabelText("Send at")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Send campaign" }));
    expect(await sentBody()).not.toHaveProperty("scheduledAt");
  });

  it("keeps the time in a draft, for when it is sent", async () => {
    fetchMock.mockResolvedValueOnce(json(201, { id: CREATED }));
    render(<NewCampaignForm canSend={false} />);
    expect(screen.getByRole("radio", { name: "As soon as it is sent" })).toBeTruthy();
    fill();
    sendLater("2026-12-07T09:00");
    expect(describedText(screen.getByLabelText("Send at"))).toContain(
      "The draft keeps this time: once someone whose key may send campaigns sends it, it goes out then",
    );
    fireEvent.click(screen.getByRole("button", { name: "Save as draft" }));
    expect(await sentBody()).toMatchObject({
      draft: true,
      scheduledAt: "2026-12-07T08:00:00.000Z",
    });
  });
});
