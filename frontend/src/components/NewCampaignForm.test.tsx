import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const { push } = vi.hoisted(() => ({
  push: vi.fn(),
}));

vi.mock("next/navigation", () => ({
  useRouter: () => ({ push, replace: vi.fn(), prefetch: vi.fn() }),
}));

vi.mock("@/lib/api/client", async (importActual) =>
  (await import("@/test/api")).mockedApiClient(importActual),
);

import { fetchMock } from "@/test/api";

import { NewCampaignForm } from "./NewCampaignForm";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** The error text linked to a field through aria-describedby. */
function describedText(element: HTMLElement): string {
  return (element.getAttribute("aria-describedby") ?? "")
    .split(" ")
    .map((id) => document.getElementById(id)?.textContent ?? "")
    .join(" ");
}

function fill(subject: string, body: string, recipients: string) {
  fireEvent.change(screen.getByLabelText("Subject"), { target: { value: subject } });
  fireEvent.change(screen.getByLabelText("HTML body"), { target: { value: body } });
  fireEvent.change(screen.getByLabelText("Recipients"), { target: { value: recipients } });
}

beforeEach(() => {
  fetchMock.mockReset();
  push.mockReset();
});
afterEach(cleanup);

describe("NewCampaignForm", () => {
  it("counts valid, invalid (with line numbers) and duplicate recipients before sending", async () => {
    render(<NewCampaignForm />);
    fireEvent.change(screen.getByLabelText("Recipients"), {
      target: { value: "ann@example.org\nnope\nANN@example.org; bob@example.org" },
    });
    const check = await screen.findByRole("list", { name: "Recipient check" });
    expect(check.textContent).toContain("2 valid");
    expect(check.textContent).toContain("1 invalid");
    expect(check.textContent).toContain("1 duplicate");
    expect(screen.getByText("nope").closest("li")?.textContent).toMatch(/^line 2: nope/i);
  });

  it("renders the body preview in a sandboxed iframe, not in the page", async () => {
    render(<NewCampaignForm />);
    fireEvent.change(screen.getByLabelText("HTML body"), {
      target: { value: '<h1 id="injected">Hi</h1><script>window.hacked = 1</script>' },
    });
    const frame = (await screen.findByTitle("Email preview")) as HTMLIFrameElement;
    expect(frame.tagName).toBe("IFRAME");
    expect(frame.getAttribute("sandbox")).toBe("");
    expect(frame.getAttribute("srcdoc")).toContain('<h1 id="injected">');
    expect(document.getElementById("injected")).toBeNull();
  });

  it("checks the fields before sending anything", async () => {
    render(<NewCampaignForm />);
    fireEvent.click(screen.getByRole("button", { name: "Send campaign" }));
    const subject = screen.getByLabelText("Subject");
    expect(subject.getAttribute("aria-invalid")).toBe("true");
    expect(describedText(subject)).toContain("Enter a subject.");
    expect(describedText(screen.getByLabelText("HTML body"))).toContain("Enter the HTML body");
    expect(describedText(screen.getByLabelText("Recipients"))).toContain(
      "Add at least one valid recipient.",
    );
    expect(document.activeElement).toBe(subject);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("sends valid, unique recipients with names and opens the new campaign", async () => {
    fetchMock.mockResolvedValueOnce(json(202, { id: "0190c7c4-0000-7000-8000-000000000001" }));
    render(<NewCampaignForm />);
    fill(
      "  Spring sale  ",
      "<p>Hello</p>",
      "Ann Smith <ann@example.org>\nbad-address\nANN@example.org, bob@example.org",
    );
    fireEvent.click(screen.getByRole("button", { name: "Send campaign" }));

    await waitFor(() =>
      expect(push).toHaveBeenCalledWith("/campaigns/0190c7c4-0000-7000-8000-000000000001"),
    );
    const request = fetchMock.mock.calls[0]![0];
    expect(request.method).toBe("POST");
    expect(new URL(request.url).pathname).toBe("/api/emails");
    expect(await request.json()).toEqual({
      subject: "Spring sale",
      body: "<p>Hello</p>",
      recipients: [{ email: "ann@example.org", name: "Ann Smith" }, "bob@example.org"],
    });
  });

  it("shows the server's 422 errors next to the fields they concern", async () => {
    fetchMock.mockResolvedValueOnce(
      json(422, {
        error: {
          code: "validation_failed",
          message: "the campaign has invalid fields",
          details: {
            fields: [{ field: "subject", message: "the subject is longer than 255 characters" }],
            invalidRecipients: [
              { index: 1, value: "b@bad", reason: "the address is not a valid email address" },
            ],
            invalidRecipientCount: 1,
          },
        },
      }),
    );
    render(<NewCampaignForm />);
    fill("Hello", "<p>Hi</p>", "a@example.org\n\nb@bad");
    fireEvent.click(screen.getByRole("button", { name: "Send campaign" }));

    const subject = screen.getByLabelText("Subject");
    await waitFor(() => expect(subject.getAttribute("aria-invalid")).toBe("true"));
    expect(describedText(subject)).toContain("The subject is longer than 255 characters.");
    const recipients = screen.getByLabelText("Recipients");
    expect(recipients.getAttribute("aria-invalid")).toBe("true");
    expect(describedText(recipients)).toContain("The server refused 1 invalid address.");
    // Index 1 of what was sent is the address on line 3 of the text.
    const issue = screen.getByText("b@bad", { selector: "li span.font-mono" }).closest("li");
    expect(issue?.textContent).toMatch(/line 3: b@bad — the address is not a valid email address/i);
    expect(screen.getByLabelText("HTML body").getAttribute("aria-invalid")).toBeNull();
    expect(push).not.toHaveBeenCalled();

    // Editing the field clears its error.
    fireEvent.change(subject, { target: { value: "Shorter" } });
    expect(subject.getAttribute("aria-invalid")).toBeNull();
  });

  it("keeps the sender collapsed and out of the request until it is filled", async () => {
    fetchMock.mockResolvedValueOnce(json(202, { id: "0190c7c4-0000-7000-8000-000000000001" }));
    render(<NewCampaignForm />);
    const details = screen.getByText("Sender").closest("details")!;
    expect(details.open).toBe(false);
    expect(details.textContent).toContain("From the server's default");
    fill("Hi", "<p>x</p>", "ann@example.org");
    fireEvent.click(screen.getByRole("button", { name: "Send campaign" }));
    await waitFor(() => expect(push).toHaveBeenCalled());
    const sent = (await fetchMock.mock.calls[0]![0].json()) as Record<string, unknown>;
    expect(sent).not.toHaveProperty("from");
    expect(sent).not.toHaveProperty("replyTo");
  });

  it("sends the From and Reply-To that were filled", async () => {
    fetchMock.mockResolvedValueOnce(json(202, { id: "0190c7c4-0000-7000-8000-000000000001" }));
    render(<NewCampaignForm />);
    fireEvent.click(screen.getByText("Sender"));
    fireEvent.change(screen.getByLabelText("From name"), { target: { value: " The Acme team " } });
    fireEvent.change(screen.getByLabelText("From address"), { target: { value: "news@localhost" } });
    fireEvent.change(screen.getByLabelText("Reply-To"), { target: { value: "help@desk.example" } });
    expect(screen.getByText("Sender").closest("details")!.textContent).toContain(
      "From The Acme team <news@localhost>, replies to help@desk.example",
    );
    fill("Hi", "<p>x</p>", "ann@example.org");
    fireEvent.click(screen.getByRole("button", { name: "Send campaign" }));
    await waitFor(() => expect(push).toHaveBeenCalled());
    expect(await fetchMock.mock.calls[0]![0].json()).toMatchObject({
      from: { name: "The Acme team", email: "news@localhost" },
      replyTo: "help@desk.example",
    });
  });

  it("asks for the address that goes with a From name before sending", async () => {
    render(<NewCampaignForm />);
    fireEvent.click(screen.getByText("Sender"));
    fireEvent.change(screen.getByLabelText("From name"), { target: { value: "Acme" } });
    fill("Hi", "<p>x</p>", "ann@example.org");
    fireEvent.click(screen.getByRole("button", { name: "Send campaign" }));
    const address = screen.getByLabelText("From address");
    expect(address.getAttribute("aria-invalid")).toBe("true");
    expect(describedText(address)).toContain("Enter the From address that goes with this name.");
    expect(document.activeElement).toBe(address);
    expect(fetchMock).not.toHaveBeenCalled();
    // Typing the address clears it.
    fireEvent.change(address, { target: { value: "news@localhost" } });
    expect(address.getAttribute("aria-invalid")).toBeNull();
  });

  it("shows the server's refusal of the From address next to it, opening the section", async () => {
    fetchMock.mockResolvedValueOnce(
      json(422, {
        error: {
          code: "validation_failed",
          message: "the campaign has invalid fields",
          details: {
            fields: [
              {
                field: "from.email",
                message: "the sender's domain is not one this server may send from (localhost)",
              },
            ],
          },
        },
      }),
    );
    render(<NewCampaignForm />);
    const details = screen.getByText("Sender").closest("details")!;
    fireEvent.click(screen.getByText("Sender"));
    fireEvent.change(screen.getByLabelText("From address"), {
      target: { value: "news@elsewhere.example" },
    });
    // Closed again before sending: the refusal opens it.
    details.open = false;
    fireEvent(details, new Event("toggle"));
    fill("Hi", "<p>x</p>", "ann@example.org");
    fireEvent.click(screen.getByRole("button", { name: "Send campaign" }));
    const address = screen.getByLabelText("From address");
    await waitFor(() => expect(address.getAttribute("aria-invalid")).toBe("true"));
    expect(describedText(address)).toContain(
      "The sender's domain is not one this server may send from (localhost).",
    );
    expect(details.open).toBe(true);
    expect(document.activeElement).toBe(address);
    expect(screen.queryByRole("alert")).toBeNull();
    expect(push).not.toHaveBeenCalled();
  });

  it("says so when the API cannot be reached", async () => {
    fetchMock.mockRejectedValueOnce(new TypeError("fetch failed"));
    render(<NewCampaignForm />);
    fill("Hello", "<p>Hi</p>", "a@example.org");
    fireEvent.click(screen.getByRole("button", { name: "Send campaign" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("cannot be reached, so nothing was sent");
    expect((screen.getByRole("button", { name: "Send campaign" }) as HTMLButtonElement).disabled).toBe(
      false,
    );
  });

  it("sends one Idempotency-Key per content, so a retry cannot create the campaign twice", async () => {
    fetchMock
      .mockRejectedValueOnce(new TypeError("fetch failed"))
      .mockRejectedValueOnce(new TypeError("fetch failed"))
      .mockResolvedValueOnce(json(202, { id: "0190c7c4-0000-7000-8000-000000000003" }));
    render(<NewCampaignForm />);
    fill("Hello", "<p>Hi</p>", "a@example.org");
    const send = screen.getByRole("button", { name: "Send campaign" });

    fireEvent.click(send);
    await screen.findByRole("alert");
    fireEvent.click(send);
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(2));
    await waitFor(() => expect((send as HTMLButtonElement).disabled).toBe(false));
    fireEvent.change(screen.getByLabelText("Subject"), { target: { value: "Hello again" } });
    fireEvent.click(send);
    await waitFor(() => expect(push).toHaveBeenCalled());

    const keys = fetchMock.mock.calls.map(([request]) => request.headers.get("Idempotency-Key"));
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  it("saves the campaign as a draft instead, when asked", async () => {
    fetchMock.mockResolvedValueOnce(json(201, { id: "0190c7c4-0000-7000-8000-000000000004" }));
    render(<NewCampaignForm />);
    fill("Later", "<p>Hi</p>", "a@example.org");
    fireEvent.click(screen.getByRole("button", { name: "Save as draft" }));
    await waitFor(() =>
      expect(push).toHaveBeenCalledWith("/campaigns/0190c7c4-0000-7000-8000-000000000004"),
    );
    expect(await fetchMock.mock.calls[0]![0].json()).toMatchObject({ subject: "Later", draft: true });
  });

  it("with a key that may not send, explains that the campaign becomes a draft", async () => {
    fetchMock.mockResolvedValueOnce(json(201, { id: "0190c7c4-0000-7000-8000-000000000005" }));
    render(<NewCampaignForm canSend={false} />);
    expect(screen.queryByRole("button", { name: "Send campaign" })).toBeNull();
    const save = screen.getByRole("button", { name: "Save as draft" });
    expect(save.getAttribute("type")).toBe("submit");
    expect(document.getElementById(save.getAttribute("aria-describedby")!)?.textContent).toMatch(
      /may not send campaigns\. This one will be saved as a draft: someone whose key\s+may send/,
    );
    fill("For review", "<p>Hi</p>", "a@example.org");
    fireEvent.click(save);
    await waitFor(() => expect(push).toHaveBeenCalled());
    expect(await fetchMock.mock.calls[0]![0].json()).toMatchObject({ draft: true });
  });

  it("adds the recipients of an uploaded CSV file and reports its bad rows", async () => {
    const user = userEvent.setup();
    render(<NewCampaignForm />);
    fireEvent.change(screen.getByLabelText("Recipients"), {
      target: { value: "ann@example.org" },
    });
    const file = new File(
      ['email,name\ncarol@example.org,"Doe, Carol"\nbroken,Nobody\nANN@example.org,Ann\n'],
      "list.csv",
      { type: "text/csv" },
    );
    await user.upload(screen.getByLabelText("Upload CSV"), file);

    const check = await screen.findByRole("list", { name: "Recipient check" });
    await waitFor(() => expect(check.textContent).toContain("2 valid"));
    expect(check.textContent).toContain("1 invalid");
    expect(check.textContent).toContain("1 duplicate");
    expect(screen.getByText("broken").closest("li")?.textContent).toMatch(/^CSV row 3: broken/i);
  });

  it("reads a CSV's other columns as fields, names them as merge tags and says what it renamed", async () => {
    const user = userEvent.setup();
    render(<NewCampaignForm />);
    await user.upload(
      screen.getByLabelText("Upload CSV"),
      new File(
        ["EMAIL,Name,company,Plan Name,\nann@example.org,Ann,Acme,Pro,x\n"],
        "people.csv",
        { type: "text/csv" },
      ),
    );
    await waitFor(() =>
      expect(document.body.textContent).toContain(
        "From the CSV: address from “EMAIL”, name from “Name”; 2 fields: company, Plan_Name.",
      ),
    );
    expect(document.body.textContent).toContain("“Plan Name” is {{ Plan_Name }}");
    expect(document.body.textContent).toContain("A column without a header: it has no header");
    // The hint next to the subject and body names the CSV's fields.
    const subject = screen.getByLabelText("Subject");
    expect(describedText(subject)).toContain("{{ company }}, {{ Plan_Name }}");
    expect(describedText(screen.getByLabelText("HTML body"))).toContain('{{ name | default("there") }}');
  });

  it("explains a CSV file without an email column", async () => {
    const user = userEvent.setup();
    render(<NewCampaignForm />);
    await user.upload(
      screen.getByLabelText("Upload CSV"),
      new File(["name,city\nAnn,Paris\n"], "people.csv", { type: "text/csv" }),
    );
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain('people.csv: The CSV file has no "email" column.');
  });
});
