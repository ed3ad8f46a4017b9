import { useId, type Ref } from "react";

import type { RecipientIssue } from "@/lib/api/submit-errors";
import { formatCount } from "@/lib/format";
import {
  describeOrigin,
  type CsvMapping,
  type RecipientAnalysis,
  type ValidRecipient,
} from "@/lib/recipients";

import { CsvUpload, type CsvState } from "./CsvUpload";
import { FieldError, describedBy, fieldBorder, inputClass, sectionClass } from "./fields";
import { RecipientSummary } from "./RecipientSummary";

interface Props {
  pasted: string;
  onPastedChange: (value: string) => void;
  csv: CsvState | null;
  onCsvChange: (csv: CsvState | null) => void;
  error?: string;
  /** The recipients the API refused, by their index in `submitted`. */
  issues: RecipientIssue[];
  /** How many the API refused in all (it lists the first ones only). */
  invalidCount: number;
  /** What was last sent, to show each refused recipient's line or row. */
  submitted: ValidRecipient[];
  analysis: RecipientAnalysis;
  /** How the uploaded CSV's columns were read, if one was. */
  csvMapping: CsvMapping | null;
  hasInput: boolean;
  textareaRef: Ref<HTMLTextAreaElement>;
}

/** Recipients pasted and uploaded as CSV, with the check of them and the API's refusals. */
export function RecipientsField({
  pasted,
  onPastedChange,
  csv,
  onCsvChange,
  error,
  issues,
  invalidCount,
  submitted,
  analysis,
  csvMapping,
  hasInput,
  textareaRef,
}: Props) {
  const id = useId();
  const ids = {
    input: `${id}-recipients`,
    hint: `${id}-recipients-hint`,
    error: `${id}-recipients-error`,
    summary: `${id}-summary`,
  };
  return (
    <section className={sectionClass}>
      <label htmlFor={ids.input} className="block text-sm font-semibold text-slate-900">
        Recipients
      </label>
      <p id={ids.hint} className="mt-0.5 text-xs text-slate-600">
        One address per line, or separated by commas or semicolons. <code>Name &lt;email&gt;</code>{" "}
        works too. Recipients with data for merge tags come from a CSV file.
      </p>
      <textarea
        ref={textareaRef}
        id={ids.input}
        name="recipients"
        value={pasted}
        onChange={(e) => onPastedChange(e.target.value)}
        rows={8}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(ids.hint, error && ids.error, ids.summary)}
        className={`${inputClass} mt-1.5 font-mono text-xs leading-relaxed ${fieldBorder(!!error)}`}
        placeholder={"ann@example.org\nBob Smith <bob@example.org>; carol@example.org"}
      />

      <CsvUpload csv={csv} onChange={onCsvChange} />

      <FieldError id={ids.error} message={error} />
      {issues.length > 0 && (
        <ul className="mt-1 space-y-0.5 text-sm text-red-800">
          {issues.map((issue) => {
            const origin = submitted[issue.index];
            return (
              <li key={issue.index}>
                <span className="font-medium capitalize">
                  {origin ? describeOrigin(origin) : `Recipient ${issue.index + 1}`}
                </span>
                : <span className="font-mono break-all">{issue.value}</span> — {issue.reason}
              </li>
            );
          })}
          {invalidCount > issues.length && (
            <li>and {formatCount(invalidCount - issues.length)} more</li>
          )}
        </ul>
      )}

      <div id={ids.summary} aria-live="polite" className="mt-4 border-t border-slate-200 pt-4">
        <h2 className="sr-only">Recipient check</h2>
        <RecipientSummary analysis={analysis} csvMapping={csvMapping} hasInput={hasInput} />
      </div>
    </section>
  );
}
