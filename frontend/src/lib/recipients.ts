import Papa from "papaparse";

/** Where a recipient came from: the pasted text (by line) or the uploaded CSV (by row). */
export type RecipientSource = "paste" | "csv";

/** One recipient as found in the input, before validation. */
export interface Candidate {
  email: string;
  name?: string;
  /** Values for merge tags (a CSV's other columns), by field name; empty cells are left out. */
  fields?: Record<string, string>;
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
  if (name.length > MAX_NAME_LENGTH && [...name].length > MAX_NAME_LENGTH) {
    return `the name is longer than ${MAX_NAME_LENGTH} characters`;
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    return "the name contains line breaks or control characters";
  }
  return null;
}

function fieldsProblem(fields: Record<string, string> | undefined): string | null {
  if (!fields) return null;
  let bytes = 0;
  for (const [name, value] of Object.entries(fields)) {
    // Counting UTF-16 units first: most values are far below the limit in either count.
    if (value.length > MAX_FIELD_VALUE_CHARS && [...value].length > MAX_FIELD_VALUE_CHARS) {
      return `the value of ${name} is longer than ${MAX_FIELD_VALUE_CHARS} characters`;
    }
    bytes += name.length + utf8Length(value);
  }
  return bytes > MAX_FIELDS_BYTES ? `the fields are larger than ${MAX_FIELDS_BYTES / 1024} KiB in all` : null;
}

function utf8Length(text: string): number {
  // ASCII is one byte a character; only text with other characters needs encoding.
  return /^[\x00-\x7f]*$/.test(text) ? text.length : new TextEncoder().encode(text).length;
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

/** How a CSV's columns were read: which gave the address and the name, which became fields. */
export interface CsvMapping {
  /** The header of the address column (null without a header row). */
  emailColumn: string | null;
  /** The header(s) of the name: one column, or first and last name joined. */
  nameColumns: string[];
  /** Each column read as a field, in column order: its header and the field's name. */
  fields: { header: string; field: string }[];
  /** Columns not read, and why. */
  skipped: { header: string; reason: string }[];
}

export type CsvResult =
  | { ok: true; candidates: Candidate[]; hasHeader: boolean; mapping: CsvMapping }
  | { ok: false; error: string };

/** The server's limits on a recipient's fields (domain/src/fields.rs). */
export const MAX_FIELDS = 50;
export const MAX_FIELD_NAME_CHARS = 64;
export const MAX_FIELD_VALUE_CHARS = 1000;
export const MAX_FIELDS_BYTES = 8 * 1024;
/** What every message provides: a field may not have these names. */
export const RESERVED_FIELDS: readonly string[] = ["email", "name", "unsubscribe_url"];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` may name a field (a merge tag). */
export function isFieldName(name: string): boolean {
  return IDENTIFIER.test(name) && name.length <= MAX_FIELD_NAME_CHARS && !RESERVED_FIELDS.includes(name);
}

/**
 * A header made into a field name: kept as it is when it is one already, else accents dropped,
 * every run of other characters made one `_` (none at either end), `_` put before a leading
 * digit, cut at 64 characters. "" when nothing is left.
 */
export function toFieldName(header: string): string {
  const trimmed = header.trim();
  if (IDENTIFIER.test(trimmed) && trimmed.length <= MAX_FIELD_NAME_CHARS) return trimmed;
  let name = trimmed
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (/^[0-9]/.test(name)) name = `_${name}`;
  return name.slice(0, MAX_FIELD_NAME_CHARS);
}

/** The columns other than the address and the name, as fields (see `toFieldName`). */
function mapFieldColumns(
  header: readonly string[],
  used: ReadonlySet<number>,
): { columns: { index: number; field: string }[]; mapping: Pick<CsvMapping, "fields" | "skipped"> } {
  const columns: { index: number; field: string }[] = [];
  const mapping: Pick<CsvMapping, "fields" | "skipped"> = { fields: [], skipped: [] };
  const taken = new Set<string>();
  header.forEach((raw, index) => {
    if (used.has(index)) return;
    const label = raw.trim();
    const field = toFieldName(raw);
    let reason: string | null = null;
    if (label === "") reason = "it has no header";
    else if (field === "") reason = "its header has no letters or digits to name a merge tag";
    else if (RESERVED_FIELDS.includes(field)) reason = `{{ ${field} }} is provided by every message`;
    else if (taken.has(field)) reason = `another column is {{ ${field} }} already`;
    else if (columns.length >= MAX_FIELDS) reason = `a recipient has at most ${MAX_FIELDS} fields`;
    if (reason !== null) {
      mapping.skipped.push({ header: label, reason });
      return;
    }
    taken.add(field);
    columns.push({ index, field });
    mapping.fields.push({ header: label, field });
  });
  return { columns, mapping };
}

function headerKey(cell: string): string {
  return cell.trim().toLowerCase().replace(/[\s_-]+/g, "");
}

const EMAIL_HEADERS = new Set(["email", "emailaddress", "mail", "emails", "address"]);
const NAME_HEADERS = new Set(["name", "fullname", "displayname", "recipient", "recipientname"]);

function isBlankRow(row: readonly (string | undefined)[]): boolean {
  return row.every((cell) => (cell ?? "").trim() === "");
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
  const steps = interpretCsv(parsed.data);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Rows read between two pauses of `readCsvRecipients`. */
const ROWS_PER_STEP = 10_000;
const BYTES_PER_CHUNK = 512 * 1024;

function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * `parseCsvRecipients`, in steps of a few thousand rows with the browser free between them: a
 * file of 100,000 rows does not freeze the page while it is read.
 */
export async function readCsvRecipients(text: string): Promise<CsvResult> {
  const rows: string[][] = [];
  await new Promise<void>((resolve, reject) => {
    Papa.parse<string[]>(text.replace(/^\uFEFF/, ""), {
      skipEmptyLines: false,
      chunkSize: BYTES_PER_CHUNK,
      chunk(results: Papa.ParseResult<string[]>, parser: Papa.Parser) {
        for (const row of results.data) rows.push(row);
        parser.pause();
        setTimeout(() => parser.resume(), 0);
      },
      complete: () => resolve(),
      error: (error: Error) => reject(error),
    });
  });
  const steps = interpretCsv(rows);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await nextTask();
  }
}

/** The rows of a CSV file as recipients; yields every `ROWS_PER_STEP` rows (see `readCsvRecipients`). */
function* interpretCsv(rows: readonly string[][]): Generator<void, CsvResult> {
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

  // A first or last name column is a field too ({{ first_name }}), besides making the name.
  const used = new Set([emailCol, nameCol].filter((c) => c !== -1));
  const { columns, mapping: fieldMapping } = hasHeader
    ? mapFieldColumns(first, used)
    : { columns: [], mapping: { fields: [], skipped: [] } };
  const mapping: CsvMapping = {
    emailColumn: hasHeader ? (first[emailCol] ?? "").trim() : null,
    nameColumns: !hasHeader
      ? []
      : nameCol !== -1
        ? [(first[nameCol] ?? "").trim()]
        : [firstNameCol, lastNameCol].filter((c) => c !== -1).map((c) => (first[c] ?? "").trim()),
    ...fieldMapping,
  };

  const candidates: Candidate[] = [];
  for (let index = firstIndex; index < rows.length; index += 1) {
    if (index % ROWS_PER_STEP === 0 && index > 0) yield;
    const row = rows[index] ?? [];
    if ((hasHeader && index === firstIndex) || isBlankRow(row)) continue;
    const email = (row[emailCol] ?? "").trim();
    let fields: Record<string, string> | undefined;
    for (const { index: col, field } of columns) {
      const value = (row[col] ?? "").trim();
      if (value === "") continue;
      fields ??= {};
      fields[field] = value;
    }
    let name: string | undefined;
    if (nameCol !== -1) {
      name = cleanName(row[nameCol]);
    } else if (firstNameCol !== -1 || lastNameCol !== -1) {
      const parts = [row[firstNameCol] ?? "", row[lastNameCol] ?? ""].map((p) => p.trim());
      name = cleanName(parts.filter((p) => p !== "").join(" "));
    }
    const candidate: Candidate = { email, name, line: index + 1, source: "csv" };
    if (fields) candidate.fields = fields;
    candidates.push(candidate);
  }
  return { ok: true, candidates, hasHeader, mapping };
}

/** Validates candidates and removes duplicates (ignoring case, the first occurrence kept). */
export function analyseRecipients(candidates: readonly Candidate[]): RecipientAnalysis {
  const steps = analyseSteps(candidates);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** `analyseRecipients`, with the browser free every `ROWS_PER_STEP` recipients. */
export async function analyseRecipientsInSteps(
  candidates: readonly Candidate[],
): Promise<RecipientAnalysis> {
  const steps = analyseSteps(candidates);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await nextTask();
  }
}

function* analyseSteps(candidates: readonly Candidate[]): Generator<void, RecipientAnalysis> {
  const result: RecipientAnalysis = { valid: [], invalid: [], duplicates: [] };
  const seen = new Map<string, { line: number; source: RecipientSource }>();
  for (let i = 0; i < candidates.length; i += 1) {
    if (i % ROWS_PER_STEP === 0 && i > 0) yield;
    const candidate = candidates[i]!;
    const email = candidate.email.trim();
    const problem =
      emailProblem(email) ?? nameProblem(candidate.name) ?? fieldsProblem(candidate.fields);
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

/**
 * The analysis of pasted recipients followed by a CSV's, the CSV's checked already (once, when
 * it was uploaded): what `analyseRecipients` says of both lists together, without checking
 * every row of a large file again at each keystroke in the pasted list.
 */
export function combineAnalyses(pasted: RecipientAnalysis, csv: RecipientAnalysis): RecipientAnalysis {
  if (pasted.valid.length === 0) {
    return {
      valid: csv.valid,
      invalid: [...pasted.invalid, ...csv.invalid],
      duplicates: [...pasted.duplicates, ...csv.duplicates],
    };
  }
  const seen = new Map(pasted.valid.map((r) => [r.email.toLowerCase(), { line: r.line, source: r.source }]));
  const valid = [...pasted.valid];
  const duplicates = [...pasted.duplicates];
  const csvDuplicates: DuplicateRecipient[] = [];
  for (const r of csv.valid) {
    const first = seen.get(r.email.toLowerCase());
    if (first) csvDuplicates.push({ email: r.email, line: r.line, source: r.source, first });
    else valid.push(r);
  }
  for (const d of csv.duplicates) {
    // Its first occurrence in the file may itself repeat a pasted address.
    csvDuplicates.push({ ...d, first: seen.get(d.email.toLowerCase()) ?? d.first });
  }
  csvDuplicates.sort((a, b) => a.line - b.line);
  return { valid, invalid: [...pasted.invalid, ...csv.invalid], duplicates: [...duplicates, ...csvDuplicates] };
}

/**
 * Every recipient of the form: the pasted ones, then the CSV's (`csvAnalysis`: its rows checked
 * already, when there is a CSV).
 */
export function analyseFormRecipients(
  pasted: string,
  csv: { candidates: readonly Candidate[]; analysis?: RecipientAnalysis } | null,
): RecipientAnalysis {
  const pastedCandidates = parsePastedRecipients(pasted);
  if (!csv) return analyseRecipients(pastedCandidates);
  if (csv.analysis) return combineAnalyses(analyseRecipients(pastedCandidates), csv.analysis);
  return analyseRecipients([...pastedCandidates, ...csv.candidates]);
}

/** "line 3" or "CSV row 3". */
export function describeOrigin(origin: { line: number; source: RecipientSource }): string {
  return origin.source === "csv" ? `CSV row ${origin.line}` : `line ${origin.line}`;
}
