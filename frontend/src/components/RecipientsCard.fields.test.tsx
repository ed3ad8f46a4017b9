import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { FieldsLine, formatFields } from "./RecipientsCard";

afterEach(cleanup);

describe("a recipient's fields in the table", () => {
  it("are one line of name: value, separated by middle dots", () => {
    expect(formatFields({ company: "Acme", plan: "Pro" })).toBe("company: Acme · plan: Pro");
    expect(formatFields({})).toBe("");
    expect(formatFields(undefined)).toBe("");
  });

  it("are cut to one line with the whole text in the tooltip", () => {
    const long = "x".repeat(300);
    render(<FieldsLine fields={{ company: "Acme", note: long }} />);
    const line = screen.getByTitle(`company: Acme · note: ${long}`);
    expect(line.className).toContain("truncate");
    expect(line.textContent).toBe(`Fields: company: Acme · note: ${long}`);
  });

  it("take no room when there are none", () => {
    const { container } = render(<FieldsLine fields={{}} />);
    expect(container.innerHTML).toBe("");
  });
});
