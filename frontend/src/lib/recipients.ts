import Papa from "papaparse";

/** Where a recipient came from: the pasted text (by line) or the uploaded CSV (by row). */
export type RecipientSource = "paste" | "csv";

/** One recipient as found in the input, before validation. */
export interface Candidate {
  email: string;
  name?: string;
  /** 1-based line of the pasted text, or 1-based row of the CSV file (the header is row 1). */
  line: number;
  source: RecipientSource;
}

export interface ValidRecipient extends Candidate {
  name?: string;
}

export interface InvalidRecipient {
  value: string;
  line: number;
  source: RecipientSource;
  reason: string;
}

export interface DuplicateRecipient {
  email: string;
  line: number;
  source: RecipientSource;
  /** Where the same address (ignoring case) first appeared. */
  first: { line: number; source: RecipientSource };
}

export interface RecipientAnalysis {
  /** Valid, unique addresses (first occurrence kept), in input order. */
  valid: ValidRecipient[];
  invalid: InvalidRecipient[];
  duplicates: DuplicateRecipient[];
}

/** The server's limits (domain/src/recipient.rs). */
export const MAX_EMAIL_LENGTH = 254;
export const MAX_NAME_LENGTH = 200;

// The HTML5 "valid email address" syntax, which the API's validator implements too.
const LOCAL_PART = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+$/;
const DOMAIN =
  /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** Why an address is not valid, or null when it is. */
export function emailProblem(raw: string): string | null {
  const email = raw.trim();
  if (email === "") return "the address is empty";
  if (email.length > MAX_EMAIL_LENGTH) {
    return `the address is longer than ${MAX_EMAIL_LENGTH} characters`;
  }
  if (/[\s\u0000-\u001f\u007f]/.test(email)) {
    return "the address contains whitespace or control characters";
  }
  const at = email.lastIndexOf("@");
  if (at <= 0 || at === email.length - 1) return "the address is not a valid email address";
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length > 64 || !LOCAL_PART.test(local) || !DOMAIN.test(domain)) {
    return "the address is not a valid email address";
  }
  return null;
}

function nameProblem(name: string | undefined): string | null {
  if (name === undefined) return null;
  if ([...name].length > MAX_NAME_LENGTH) {
    return `the name is longer than ${MAX_NAME_LENGTH} characters`;
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    return "the name contains line breaks or control characters";
  }
  return null;
}

function unquote(value: string): string {
  const text = value.trim();
  if (text.length >= 2) {
    const first = text[0];
    const last = text[text.length - 1];
    if ((first === '"' && last === '"') || (first === "'" && last === "'")) {
      return text.slice(1, -1).replace(/\\(["'\\])/g, "$1").trim();
    }
  }
  return text;
}

function cleanName(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const name = unquote(raw);
  return name === "" ? undefined : name;
}

/**
 * Splits one line at commas and semicolons that are outside double quotes and angle brackets,
 * so `"Doe, Jane" <jane@example.org>, bob@example.org` is two entries.
 */
function splitEntries(line: string): string[] {
  const parts: string[] = [];
  let current = "";
  let inQuotes = false;
  let inAngle = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line.charAt(i);
    if (ch === "\\" && inQuotes && i + 1 < line.length) {
      current += ch + line.charAt(i + 1);
      i += 1;
      continue;
    }
    if (ch === '"') inQuotes = !inQuotes;
    else if (ch === "<" && !inQuotes) inAngle = true;
    else if (ch === ">" && !inQuotes) inAngle = false;
    if ((ch === "," || ch === ";") && !inQuotes && !inAngle) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

/** One entry: `email`, `"email"`, `Name <email>`, `"Name" <email>`, `<email>` or `Name<TAB>email`. */
function parseEntry(entry: string): { email: string; name?: string } {
  const angled = /^(.*?)<([^<>]*)>\s*$/.exec(entry);
  if (angled) {
    return { email: (angled[2] ?? "").trim(), name: cleanName(angled[1]) };
  }
  if (entry.includes("\t")) {
    // A row pasted from a spreadsheet: the cell with an @ is the address, the rest the name.
    const cells = entry.split("\t").map((c) => unquote(c)).filter((c) => c !== "");
    const emailCells = cells.filter((c) => c.includes("@"));
    if (emailCells.length === 1) {
      const email = emailCells[0] ?? "";
      return { email, name: cleanName(cells.filter((c) => c !== email).join(" ")) };
    }
  }
  return { email: unquote(entry) };
}

/**
 * Reads pasted recipients: one per line, or several on a line separated by commas or
 * semicolons. Blank entries are skipped; line numbers are 1-based.
 */
export function parsePastedRecipients(text: string): Candidate[] {
  const candidates: Candidate[] = [];
  text.split(/\r\n|\r|\n/).forEach((line, index) => {
    for (const entry of splitEntries(line)) {
      const { email, name } = parseEntry(entry);
      candidates.push({ email, name, line: index + 1, source: "paste" });
    }
  });
  return candidates;
}

export type CsvResult =
  | { ok: true; candidates: Candidate[]; hasHeader: boolean }
  | { ok: false; error: string };

function headerKey(cell: string): string {
  return cell.trim().toLowerCase().replace(/[\s_-]+/g, "");
}

const EMAIL_HEADERS = new Set(["email", "emailaddress", "mail", "emails", "address"]);
const NAME_HEADERS = new Set(["name", "fullname", "displayname", "recipient", "recipientname"]);

function isBlankRow(row: string[]): boolean {
  return row.every((cell) => cell.trim() === "");
}

/**
 * Reads a CSV file of recipients. The first row is a header when it has an `email` column
 * (optional `name`, or `first name` and `last name`); without a header, a first row whose
 * cell holds an address is data, and the other cell of a two-column file is the name.
 */
export function parseCsvRecipients(text: string): CsvResult {
  const parsed = Papa.parse<string[]>(text.replace(/^\uFEFF/, ""), {
    skipEmptyLines: false,
  });
  const rows = parsed.data.map((row) => row.map((cell) => cell ?? ""));
  const firstIndex = rows.findIndex((row) => !isBlankRow(row));
  if (firstIndex === -1) return { ok: false, error: "The CSV file is empty." };
  const first = rows[firstIndex] ?? [];

  const keys = first.map(headerKey);
  let emailCol = keys.findIndex((k) => EMAIL_HEADERS.has(k));
  let nameCol = keys.findIndex((k) => NAME_HEADERS.has(k));
  let firstNameCol = keys.findIndex((k) => k === "firstname" || k === "givenname");
  let lastNameCol = keys.findIndex((k) => k === "lastname" || k === "surname" || k === "familyname");
  let hasHeader = emailCol !== -1;

  if (!hasHeader) {
    const withAt = first
      .map((cell, index) => ({ cell, index }))
      .filter(({ cell }) => cell.includes("@"));
    const candidate = withAt[0];
    if (withAt.length !== 1 || !candidate || emailProblem(candidate.cell) !== null) {
      return {
        ok: false,
        error:
          'The CSV file has no "email" column. Add a header row with an "email" column (and optionally "name").',
      };
    }
    emailCol = candidate.index;
    nameCol = first.length === 2 ? 1 - emailCol : -1;
    firstNameCol = -1;
    lastNameCol = -1;
    hasHeader = false;
  }

  const candidates: Candidate[] = [];
  rows.forEach((row, index) => {
    if (index < firstIndex || (hasHeader && index === firstIndex) || isBlankRow(row)) return;
    const email = (row[emailCol] ?? "").trim();
    let name: string | undefined;
    if (nameCol !== -1) {
      name = cleanName(row[nameCol]);
    } else if (firstNameCol !== -1 || lastNameCol !== -1) {
      const parts = [row[firstNameCol] ?? "", row[lastNameCol] ?? ""].map((p) => p.trim());
      name = cleanName(parts.filter((p) => p !== "").join(" "));
    }
    candidates.push({ email, name, line: index + 1, source: "csv" });
  });
  return { ok: true, candidates, hasHeader };
}

/** Validates candidates and removes duplicates (ignoring case, the first occurrence kept). */
export function analyseRecipients(candidates: readonly Candidate[]): RecipientAnalysis {
  const result: RecipientAnalysis = { valid: [], invalid: [], duplicates: [] };
  const seen = new Map<string, { line: number; source: RecipientSource }>();
  for (const candidate of candidates) {
    const email = candidate.email.trim();
    const problem = emailProblem(email) ?? nameProblem(candidate.name);
    if (problem !== null) {
      result.invalid.push({
        value: email === "" ? candidate.name ?? "" : email,
        line: candidate.line,
        source: candidate.source,
        reason: problem,
      });
      continue;
    }
    const key = email.toLowerCase();
    const first = seen.get(key);
    if (first) {
      result.duplicates.push({ email, line: candidate.line, source: candidate.source, first });
      continue;
    }
    seen.set(key, { line: candidate.line, source: candidate.source });
    result.valid.push({ ...candidate, email });
  }
  return result;
}

/** "line 3" or "CSV row 3". */
export function describeOrigin(origin: { line: number; source: RecipientSource }): string {
  return origin.source === "csv" ? `CSV row ${origin.line}` : `line ${origin.line}`;
}
