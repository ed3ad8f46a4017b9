import { useId, useRef, useState } from "react";

import { plural } from "@/lib/format";
import {
  analyseRecipientsInSteps,
  readCsvRecipients,
  type Candidate,
  type CsvMapping,
  type CsvResult,
  type RecipientAnalysis,
} from "@/lib/recipients";

import { buttonSecondary } from "../ui";
import { describedBy } from "./fields";

/** An uploaded CSV file, parsed. */
export interface CsvState {
  fileName: string;
  result: CsvResult;
  /** Its recipients checked, once, as it was read (a large file is not checked at each render). */
  analysis?: RecipientAnalysis;
}

/** A usable CSV's recipients, for `analyseFormRecipients`. */
export function csvRecipients(
  csv: CsvState | null,
): { candidates: readonly Candidate[]; analysis?: RecipientAnalysis } | null {
  return csv?.result.ok ? { candidates: csv.result.candidates, analysis: csv.analysis } : null;
}

interface Props {
  csv: CsvState | null;
  /** A file was chosen (and parsed) or removed. */
  onChange: (csv: CsvState | null) => void;
}

/** Which headers were renamed to be merge-tag names, and which columns are not read. */
function ColumnNotes({ mapping }: { mapping: CsvMapping }) {
  const renamed = mapping.fields.filter((f) => f.header !== f.field);
  if (renamed.length === 0 && mapping.skipped.length === 0) return null;
  return (
    <div className="mt-1.5 rounded-md border border-amber-200 bg-amber-50 p-2.5 text-sm text-amber-950">
      {renamed.length > 0 && (
        <>
          <p>
            Merge tags are letters, digits and <code>_</code>, not starting with a digit, so these
            columns are renamed:
          </p>
          <ul className="mt-0.5 list-disc pl-5">
            {renamed.map((f) => (
              <li key={f.field}>
                “{f.header}” is <code>{`{{ ${f.field} }}`}</code>
              </li>
            ))}
          </ul>
        </>
      )}
      {mapping.skipped.length > 0 && (
        <>
          <p className={renamed.length > 0 ? "mt-1.5" : undefined}>These columns are not read:</p>
          <ul className="mt-0.5 list-disc pl-5">
            {mapping.skipped.map((s, i) => (
              <li key={i}>
                {s.header === "" ? "A column without a header" : `“${s.header}”`}: {s.reason}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** The CSV file input: its rows are added to the pasted recipients. */
export function CsvUpload({ csv, onChange }: Props) {
  const id = useId();
  const ids = { input: `${id}-csv`, hint: `${id}-csv-hint`, error: `${id}-csv-error` };
  const fileInput = useRef<HTMLInputElement>(null);
  // Each choice's number: a file still being read when another is chosen (or the file removed)
  // is dropped.
  const choice = useRef(0);
  const [reading, setReading] = useState<string | null>(null);

  async function choose(file: File | undefined) {
    const current = ++choice.current;
    if (!file) {
      setReading(null);
      onChange(null);
      return;
    }
    setReading(file.name);
    const text = await file.text();
    const result = await readCsvRecipients(text);
    const analysis = result.ok ? await analyseRecipientsInSteps(result.candidates) : undefined;
    if (current !== choice.current) return;
    setReading(null);
    onChange({ fileName: file.name, result, analysis });
  }

  function remove() {
    choice.current += 1;
    setReading(null);
    if (fileInput.current) fileInput.current.value = "";
    onChange(null);
  }

  return (
    <>
      <div className="mt-3 flex flex-wrap items-center gap-3">
        <label htmlFor={ids.input} className="text-sm font-semibold text-slate-900">
          Upload CSV
        </label>
        <input
          ref={fileInput}
          id={ids.input}
          name="csv"
          type="file"
          accept=".csv,text/csv"
          onChange={(e) => void choose(e.target.files?.[0])}
          aria-describedby={describedBy(ids.hint, csv?.result.ok === false && ids.error)}
          className="block max-w-full text-sm text-slate-700 file:mr-3 file:min-h-10 file:cursor-pointer file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:text-sm file:font-semibold file:text-slate-800 hover:file:bg-slate-50"
        />
        {csv && (
          <button type="button" onClick={remove} className={buttonSecondary}>
            Remove file
          </button>
        )}
      </div>
      <p id={ids.hint} className="mt-1 text-xs text-slate-600">
        A header row with an <code>email</code> column and an optional <code>name</code> column;
        every other column is a field for merge tags, named after its header (
        <code>company</code> is <code>{"{{ company }}"}</code>), and an empty cell is no value.
        Its recipients are added to the ones above.
      </p>
      {reading !== null && (
        <p className="mt-1 text-sm text-slate-700" role="status">
          Reading <span className="font-medium">{reading}</span>…
        </p>
      )}
      {reading === null && csv?.result.ok === true && (
        <p className="mt-1 text-sm text-slate-700">
          <span className="font-medium">{csv.fileName}</span>:{" "}
          {plural(csv.result.candidates.length, "row", "rows")} read.
        </p>
      )}
      {csv?.result.ok === true && <ColumnNotes mapping={csv.result.mapping} />}
      {csv?.result.ok === false && (
        <p id={ids.error} className="mt-1.5 text-sm font-medium text-red-700" role="alert">
          {csv.fileName}: {csv.result.error}
        </p>
      )}
    </>
  );
}
