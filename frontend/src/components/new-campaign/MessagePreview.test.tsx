import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("@/lib/api/client", async (importActual) =>
  (await import("@/test/api")).mockedApiClient(importActual),
);

import { fetchMock } from "@/test/api";

import type { ValidRecipient } from "@/lib/recipients";

import { MessagePreview } from "./MessagePreview";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

const ANN: ValidRecipient = {
  email: "ann@example.org",
  name: "Ann",
  line: 2,
  source: "csv",
  fields: { company: "Acme" },
};
const BOB: ValidRecipient = { email: "bob@example.org", line: 3, source: "csv" };

/** Answers each preview with the subject it was asked for, the company filled in. */
function echo() {
  fetchMock.mockImplementation(async (request) => {
    const body = (await request.json()) as {
      subject: string;
      recipient: string | { email: string; fields?: Record<string, string> };
    };
    const company =
      typeof body.recipient === "string" ? "nobody" : (body.recipient.fields?.company ?? "none");
    return json(200, {
      subject: body.subject.replace("{{ company }}", company),
      html: `<p>${company}</p>`,
      text: company,
    });
  });
}

async function advance(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  fetchMock.mockReset();
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe("MessagePreview", () => {
  it("asks nothing while the subject, the body or the recipients are empty", async () => {
    echo();
    const { rerender } = render(<MessagePreview subject="" body="<p>x</p>" recipients={[ANN]} />);
    await advance(1000);
    rerender(<MessagePreview subject="Hi" body=" " recipients={[ANN]} />);
    await advance(1000);
    rerender(<MessagePreview subject="Hi" body="<p>x</p>" recipients={[]} />);
    await advance(1000);
    expect(fetchMock).not.toHaveBeenCalled();
    // The body is shown as written meanwhile.
    expect(screen.getByTitle("Email preview").getAttribute("srcdoc")).toContain("<p>x</p>");
  });

  it("waits for typing to pause, then renders the first recipient's message", async () => {
    echo();
    const { rerender } = render(
      <MessagePreview subject="News for {{ company }}" body="<p>a</p>" recipients={[ANN, BOB]} />,
    );
    await advance(200);
    rerender(<MessagePreview subject="News for {{ company }}" body="<p>ab</p>" recipients={[ANN, BOB]} />);
    await advance(299);
    expect(fetchMock).not.toHaveBeenCalled();
    await advance(1);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const request = fetchMock.mock.calls[0]![0];
    expect(request.method).toBe("POST");
    expect(new URL(request.url).pathname).toBe("/api/emails/preview");
    expect(await request.clone().json()).toEqual({
      subject: "News for {{ company }}",
      body: "<p>ab</p>",
      recipient: { email: "ann@example.org", name: "Ann", fields: { company: "Acme" } },
    });
    await advance(0);
    expect(screen.getByTestId("preview-subject").textContent).toBe("News for Acme");
    expect(screen.getByTitle("Email preview").getAttribute("sandbox")).toBe("");
    expect(screen.getByText("Text part")).toBeTruthy();
  });

  it("renders for the recipient picked, sent as a bare address when it has no data", async () => {
    echo();
    render(<MessagePreview subject="News for {{ company }}" body="<p>a</p>" recipients={[ANN, BOB]} />);
    await advance(300);
    const select = screen.getByLabelText("For") as HTMLSelectElement;
    expect(select.value).toBe("ann@example.org");
    await act(async () => {
      select.value = "bob@example.org";
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });
    await advance(300);
    expect(await fetchMock.mock.calls[1]![0].clone().json()).toMatchObject({
      recipient: "bob@example.org",
    });
    await advance(0);
    expect(screen.getByTestId("preview-subject").textContent).toBe("News for nobody");
  });

  it("ignores an answer that a newer request made stale", async () => {
    let answerFirst: (response: Response) => void = () => {};
    fetchMock
      .mockImplementationOnce(() => new Promise((resolve) => (answerFirst = resolve)))
      .mockImplementationOnce(async () => json(200, { subject: "Second", html: "<p>2</p>", text: "2" }));
    const { rerender } = render(<MessagePreview subject="First" body="<p>1</p>" recipients={[ANN]} />);
    await advance(300);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const first = fetchMock.mock.calls[0]![0];
    rerender(<MessagePreview subject="Second" body="<p>2</p>" recipients={[ANN]} />);
    // The first request is aborted as soon as the content changes.
    expect(first.signal.aborted).toBe(true);
    await advance(300);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    await advance(0);
    expect(screen.getByTestId("preview-subject").textContent).toBe("Second");
    await act(async () => answerFirst(json(200, { subject: "First", html: "<p>1</p>", text: "1" })));
    await advance(0);
    expect(screen.getByTestId("preview-subject").textContent).toBe("Second");
  });

  it("shows a 422 where the preview would be", async () => {
    fetchMock.mockResolvedValue(
      json(422, {
        error: {
          code: "validation_failed",
          message: "the request has invalid fields",
          details: {
            fields: [
              {
                field: "body",
                message:
                  'merge tags: {{ city }} has no value for 1 recipient(s) (the first at index 0); give each that field, or a default: {{ city | default("...") }}',
              },
            ],
            invalidRecipients: [{ index: 0, value: "bob@example.org", reason: "no value for {{ city }}" }],
            invalidRecipientCount: 1,
          },
        },
      }),
    );
    render(<MessagePreview subject="Hi" body="<p>{{ city }}</p>" recipients={[BOB]} />);
    await advance(300);
    await advance(0);
    expect(screen.queryByTitle("Email preview")).toBeNull();
    const text = document.body.textContent ?? "";
    expect(text).toContain("This message cannot be sent to this recipient");
    expect(text).toContain("bob@example.org: no value for {{ city }}.");
    expect(text).toContain('Body: Merge tags: {{ city }} has no value');
    expect(text).not.toContain("The server refused");
  });
});
