import { describe, expect, it } from "vitest";

import {
  analyseRecipients,
  describeOrigin,
  emailProblem,
  parseCsvRecipients,
  parsePastedRecipients,
  type Candidate,
} from "./recipients";

function pasted(text: string) {
  return analyseRecipients(parsePastedRecipients(text));
}

function csvCandidates(text: string): Candidate[] {
  const result = parseCsvRecipients(text);
  if (!result.ok) throw new Error(`expected a parsed CSV, got: ${result.error}`);
  return result.candidates;
}

describe("emailProblem", () => {
  it("accepts ordinary addresses, plus tags and subdomains", () => {
    expect(emailProblem("ann@example.org")).toBeNull();
    expect(emailProblem("ann.smith+news@mail.example.co.uk")).toBeNull();
    expect(emailProblem("  padded@example.org  ")).toBeNull();
  });

  it("rejects addresses the API would refuse, with a reason", () => {
    expect(emailProblem("")).toBe("the address is empty");
    expect(emailProblem("no-at-sign")).toBe("the address is not a valid email address");
    expect(emailProblem("@example.org")).toBe("the address is not a valid email address");
    expect(emailProblem("ann@")).toBe("the address is not a valid email address");
    expect(emailProblem("ann@exa_mple.org")).toBe("the address is not a valid email address");
    expect(emailProblem("ann smith@example.org")).toBe(
      "the address contains whitespace or control characters",
    );
    expect(emailProblem(`${"a".repeat(250)}@example.org`)).toBe(
      "the address is longer than 254 characters",
    );
  });
});

describe("pasted recipients", () => {
  it("splits at new lines, commas and semicolons", () => {
    const result = pasted("a@example.org\nb@example.org, c@example.org;d@example.org\r\ne@example.org");
    expect(result.valid.map((r) => r.email)).toEqual([
      "a@example.org",
      "b@example.org",
      "c@example.org",
      "d@example.org",
      "e@example.org",
    ]);
    expect(result.valid.map((r) => r.line)).toEqual([1, 2, 2, 2, 3]);
    expect(result.invalid).toEqual([]);
  });

  it("trims whitespace and skips blank lines and empty entries, keeping line numbers", () => {
    const result = pasted("\n   a@example.org   \n\n ; , \n\tb@example.org ,\n");
    expect(result.valid.map((r) => [r.email, r.line])).toEqual([
      ["a@example.org", 2],
      ["b@example.org", 5],
    ]);
    expect(result.invalid).toEqual([]);
  });

  it("reads names in `Name <email>` and quoted forms, even with commas inside quotes", () => {
    const result = pasted(
      'Ann Smith <ann@example.org>, "Doe, Jane" <jane@example.org>; <bob@example.org>\n"carol@example.org"',
    );
    expect(result.valid.map((r) => ({ email: r.email, name: r.name }))).toEqual([
      { email: "ann@example.org", name: "Ann Smith" },
      { email: "jane@example.org", name: "Doe, Jane" },
      { email: "bob@example.org", name: undefined },
      { email: "carol@example.org", name: undefined },
    ]);
  });

  it("reads a name and an address pasted from two spreadsheet cells", () => {
    const result = pasted("Ann Smith\tann@example.org\nbob@example.org\tBob");
    expect(result.valid.map((r) => [r.email, r.name])).toEqual([
      ["ann@example.org", "Ann Smith"],
      ["bob@example.org", "Bob"],
    ]);
  });

  it("lists invalid entries with their line numbers and reasons", () => {
    const result = pasted("good@example.org\nnot-an-email\n\nalso bad@example.org, x@y@z");
    expect(result.valid.map((r) => r.email)).toEqual(["good@example.org"]);
    expect(result.invalid).toEqual([
      {
        value: "not-an-email",
        line: 2,
        source: "paste",
        reason: "the address is not a valid email address",
      },
      {
        value: "also bad@example.org",
        line: 4,
        source: "paste",
        reason: "the address contains whitespace or control characters",
      },
      {
        value: "x@y@z",
        line: 4,
        source: "paste",
        reason: "the address is not a valid email address",
      },
    ]);
  });

  it("counts duplicates ignoring case and keeps the first occurrence", () => {
    const result = pasted("Ann@Example.org\nbob@example.org\nann@example.ORG, BOB@example.org\nann@example.org");
    expect(result.valid.map((r) => r.email)).toEqual(["Ann@Example.org", "bob@example.org"]);
    expect(result.duplicates).toEqual([
      { email: "ann@example.ORG", line: 3, source: "paste", first: { line: 1, source: "paste" } },
      { email: "BOB@example.org", line: 3, source: "paste", first: { line: 2, source: "paste" } },
      { email: "ann@example.org", line: 4, source: "paste", first: { line: 1, source: "paste" } },
    ]);
  });

  it("returns nothing for empty input", () => {
    expect(pasted("   \n\n")).toEqual({ valid: [], invalid: [], duplicates: [] });
  });
});

describe("CSV recipients", () => {
  it("detects a header row with email and name columns in any order and case", () => {
    const result = parseCsvRecipients("Name,E-mail\nAnn,ann@example.org\nBob,bob@example.org\n");
    expect(result).toEqual({
      ok: true,
      hasHeader: true,
      candidates: [
        { email: "ann@example.org", name: "Ann", line: 2, source: "csv" },
        { email: "bob@example.org", name: "Bob", line: 3, source: "csv" },
      ],
      mapping: { emailColumn: "E-mail", nameColumns: ["Name"], fields: [], skipped: [] },
    });
  });

  it("keeps commas and quotes inside quoted fields", () => {
    const candidates = csvCandidates(
      'email,name\n"ann@example.org","Smith, Ann"\nbob@example.org,"Bob ""The Builder"""\n',
    );
    expect(candidates.map((c) => [c.email, c.name])).toEqual([
      ["ann@example.org", "Smith, Ann"],
      ["bob@example.org", 'Bob "The Builder"'],
    ]);
  });

  it("reads a file without a name column, ignoring other columns", () => {
    const candidates = csvCandidates("id,email,city\n1,ann@example.org,Paris\n2,bob@example.org,Oslo");
    expect(candidates.map((c) => [c.email, c.name])).toEqual([
      ["ann@example.org", undefined],
      ["bob@example.org", undefined],
    ]);
  });

  it("joins first and last name columns when there is no name column", () => {
    const candidates = csvCandidates("first_name;last_name;email\nAnn;Smith;ann@example.org\n;Solo;solo@example.org");
    expect(candidates.map((c) => c.name)).toEqual(["Ann Smith", "Solo"]);
  });

  it("treats a first row holding an address as data when there is no header", () => {
    const result = parseCsvRecipients("ann@example.org,Ann\nBob,bob@example.org\n");
    expect(result.ok && result.hasHeader).toBe(false);
    expect(csvCandidates("ann@example.org,Ann\nbob@example.org,Bob").map((c) => [c.email, c.name, c.line])).toEqual([
      ["ann@example.org", "Ann", 1],
      ["bob@example.org", "Bob", 2],
    ]);
  });

  it("reports a missing email column", () => {
    const result = parseCsvRecipients("name,city\nAnn,Paris\n");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/no "email" column/);
  });

  it("reports an empty file", () => {
    expect(parseCsvRecipients("\n\n")).toEqual({ ok: false, error: "The CSV file is empty." });
  });

  it("strips a byte order mark and skips blank rows without shifting row numbers", () => {
    const candidates = csvCandidates("\uFEFFemail\r\nann@example.org\r\n\r\nbob@example.org\r\n");
    expect(candidates.map((c) => [c.email, c.line])).toEqual([
      ["ann@example.org", 2],
      ["bob@example.org", 4],
    ]);
  });

  it("flags invalid rows with their row numbers and de-duplicates against pasted ones", () => {
    const candidates = [
      ...parsePastedRecipients("ann@example.org"),
      ...csvCandidates("email,name\nANN@example.org,Ann\nbroken,Someone\ncarol@example.org,Carol"),
    ];
    const result = analyseRecipients(candidates);
    expect(result.valid.map((r) => r.email)).toEqual(["ann@example.org", "carol@example.org"]);
    expect(result.invalid).toEqual([
      { value: "broken", line: 3, source: "csv", reason: "the address is not a valid email address" },
    ]);
    expect(result.duplicates).toEqual([
      { email: "ANN@example.org", line: 2, source: "csv", first: { line: 1, source: "paste" } },
    ]);
    expect(describeOrigin(result.invalid[0]!)).toBe("CSV row 3");
    expect(describeOrigin({ line: 7, source: "paste" })).toBe("line 7");
  });
});
