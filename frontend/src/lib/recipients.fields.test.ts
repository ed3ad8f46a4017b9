import { describe, expect, it } from "vitest";

import { toCreateRequest } from "./campaign-form";
import {
  analyseFormRecipients,
  analyseRecipients,
  analyseRecipientsInSteps,
  isFieldName,
  parseCsvRecipients,
  readCsvRecipients,
  toFieldName,
} from "./recipients";

function ok(text: string) {
  const result = parseCsvRecipients(text);
  if (!result.ok) throw new Error(result.error);
  return result;
}

describe("CSV columns as merge-tag fields", () => {
  it("reads email and name, and every other column as a field named after its header", () => {
    const result = ok("Email,Name,company,plan\nann@example.org,Ann,Acme,Pro\nbob@example.org,,Beta,\n");
    expect(result.mapping).toEqual({
      emailColumn: "Email",
      nameColumns: ["Name"],
      fields: [
        { header: "company", field: "company" },
        { header: "plan", field: "plan" },
      ],
      skipped: [],
    });
    expect(result.candidates).toEqual([
      {
        email: "ann@example.org",
        name: "Ann",
        line: 2,
        source: "csv",
        fields: { company: "Acme", plan: "Pro" },
      },
      // Empty cells are no value: no name, no plan.
      { email: "bob@example.org", name: undefined, line: 3, source: "csv", fields: { company: "Beta" } },
    ]);
  });

  it("leaves fields out of a row whose other cells are all empty", () => {
    const result = ok("email,city\nann@example.org,  \n");
    expect(result.candidates[0]).not.toHaveProperty("fields");
    expect(toCreateRequest({ subject: "s", body: "b", recipients: analyseRecipients(result.candidates).valid }).recipients).toEqual(["ann@example.org"]);
  });

  it("makes headers that are not identifiers into field names, and says which it skips", () => {
    const result = ok(
      "email,Company Name,2nd plan,Café,,***,unsubscribe_url,company_name,Name\n" +
        "ann@example.org,Acme,Pro,Latte,x,y,z,dup,Ann\n",
    );
    expect(result.mapping.fields).toEqual([
      { header: "Company Name", field: "Company_Name" },
      { header: "2nd plan", field: "_2nd_plan" },
      { header: "Café", field: "Cafe" },
      { header: "company_name", field: "company_name" },
    ]);
    expect(result.mapping.skipped).toEqual([
      { header: "", reason: "it has no header" },
      { header: "***", reason: "its header has no letters or digits to name a merge tag" },
      { header: "unsubscribe_url", reason: "{{ unsubscribe_url }} is provided by every message" },
    ]);
    expect(result.candidates[0]?.name).toBe("Ann");
    expect(result.candidates[0]?.fields).toEqual({
      Company_Name: "Acme",
      _2nd_plan: "Pro",
      Cafe: "Latte",
      company_name: "dup",
    });
  });

  it("skips a second column that makes the same field name", () => {
    const result = ok("email,plan,Plan ,plan!\nann@example.org,a,b,c\n");
    expect(result.mapping.fields).toEqual([
      { header: "plan", field: "plan" },
      { header: "Plan", field: "Plan" },
    ]);
    expect(result.mapping.skipped).toEqual([
      { header: "plan!", reason: "another column is {{ plan }} already" },
    ]);
  });

  it("keeps first and last name columns as fields while joining them into the name", () => {
    const result = ok("email,first name,last name\nann@example.org,Ann,Lee\n");
    expect(result.mapping.nameColumns).toEqual(["first name", "last name"]);
    expect(result.candidates[0]).toMatchObject({
      name: "Ann Lee",
      fields: { first_name: "Ann", last_name: "Lee" },
    });
  });

  it("has no fields without a header row", () => {
    const result = ok("ann@example.org,Ann\n");
    expect(result.hasHeader).toBe(false);
    expect(result.mapping).toEqual({ emailColumn: null, nameColumns: [], fields: [], skipped: [] });
    expect(result.candidates[0]).toEqual({ email: "ann@example.org", name: "Ann", line: 1, source: "csv" });
  });

  it("reads at most 50 fields", () => {
    const headers = Array.from({ length: 52 }, (_, i) => `f${i}`);
    const result = ok(`email,${headers.join(",")}\nann@example.org,${headers.join(",")}\n`);
    expect(result.mapping.fields).toHaveLength(50);
    expect(result.mapping.skipped.map((s) => s.header)).toEqual(["f50", "f51"]);
  });

  it("refuses a recipient whose values exceed the API's limits", () => {
    const long = "x".repeat(1001);
    const big = Array.from({ length: 10 }, () => "y".repeat(900));
    const headers = Array.from({ length: 10 }, (_, i) => `f${i}`);
    const result = ok(
      `email,note,${headers.join(",")}\n` +
        `ann@example.org,${long}${",".repeat(10)}\n` +
        `bob@example.org,,${big.join(",")}\n` +
        `carol@example.org,${"é".repeat(1000)}${",".repeat(10)}\n`,
    );
    const analysis = analyseRecipients(result.candidates);
    expect(analysis.invalid.map((i) => i.reason)).toEqual([
      "the value of note is longer than 1000 characters",
      "the fields are larger than 8 KiB in all",
    ]);
    expect(analysis.valid.map((v) => v.email)).toEqual(["carol@example.org"]);
  });

  it("names fields as the API accepts them", () => {
    expect(toFieldName(" company ")).toBe("company");
    expect(toFieldName("Zip-Code")).toBe("Zip_Code");
    expect(toFieldName("x".repeat(70))).toHaveLength(64);
    expect(isFieldName("company")).toBe(true);
    expect(isFieldName("name")).toBe(false);
    expect(isFieldName("1a")).toBe(false);
  });

  it("reads and checks a 100,000-row file quickly", () => {
    const text = bigCsv();
    const started = performance.now();
    const result = ok(text);
    const parsed = performance.now();
    const analysis = analyseRecipients(result.candidates);
    const checked = performance.now();
    const request = toCreateRequest({ subject: "s", body: "b", recipients: analysis.valid });
    const done = performance.now();
    console.info(
      `100k-row CSV: parse ${Math.round(parsed - started)} ms, check ${Math.round(checked - parsed)} ms, ` +
        `request ${Math.round(done - checked)} ms`,
    );
    expect(analysis.valid).toHaveLength(100_000);
    expect(request.recipients[2]).toEqual({
      email: "user2@example.org",
      name: "User 2",
      fields: { company: "Company 2", plan: "Pro", city: "City 2" },
    });
    // Generous for a slow CI machine; on a laptop it is a few hundred milliseconds.
    expect(done - started).toBeLessThan(3000);
  });

  it("reads a 100,000-row file in steps, the same rows, never busy for long at once", async () => {
    // Quoted cells with line breaks and commas, some across the parser's chunk boundaries.
    const text = bigCsv(true);
    let longest = 0;
    let last = performance.now();
    let running = true;
    const tick = () => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      if (running) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    const started = performance.now();
    const result = await readCsvRecipients(text);
    running = false;
    const elapsed = performance.now() - started;
    console.info(
      `100k-row CSV read in steps: ${Math.round(elapsed)} ms in all, at most ${Math.round(longest)} ms without a break`,
    );
    expect(result).toEqual(parseCsvRecipients(text));
    if (!result.ok) throw new Error(result.error);
    expect(result.candidates[1000]?.fields?.company).toBe("Line\nbreak, inc");
    // Generous for a slow machine: the whole file takes several times this.
    expect(longest).toBeLessThan(elapsed / 2);
  });
});

describe("a CSV checked once, when uploaded", () => {
  it("combines with the pasted list as checking both together would", async () => {
    const csv = ok(
      "email,name\nann@example.org,Ann\nnope,X\ncarol@example.org,C\nBOB@example.org,B\ncarol@EXAMPLE.org,C2\ndan@example.org,D\n",
    );
    const pasted = "bob@example.org\nx@\nDAN@example.org, bob@example.org";
    const analysis = await analyseRecipientsInSteps(csv.candidates);
    const combined = analyseFormRecipients(pasted, { candidates: csv.candidates, analysis });
    const together = analyseFormRecipients(pasted, { candidates: csv.candidates });
    expect(combined.valid).toEqual(together.valid);
    expect(combined.invalid).toEqual(together.invalid);
    const byLine = (d: { source: string; line: number }[]) =>
      [...d].sort((a, b) => a.source.localeCompare(b.source) || a.line - b.line);
    expect(byLine(combined.duplicates)).toEqual(byLine(together.duplicates));
    expect(together.valid.map((v) => v.email)).toEqual([
      "bob@example.org",
      "DAN@example.org",
      "ann@example.org",
      "carol@example.org",
    ]);
    // With nothing pasted, the CSV's own analysis as it is.
    expect(analyseFormRecipients("", { candidates: csv.candidates, analysis })).toEqual(
      analyseRecipients(csv.candidates),
    );
  });
});

function bigCsv(quoted = false): string {
  const lines = ["email,name,company,plan,city"];
  for (let i = 0; i < 100_000; i += 1) {
    const company = quoted && i % 1000 === 0 ? '"Line\nbreak, inc"' : `Company ${i % 500}`;
    lines.push(`user${i}@example.org,User ${i},${company},${i % 3 ? "Pro" : ""},City ${i % 97}`);
  }
  return lines.join("\n");
}
