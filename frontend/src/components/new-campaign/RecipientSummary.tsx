import { formatCount, plural } from "@/lib/format";
import { describeOrigin, type CsvMapping, type RecipientAnalysis } from "@/lib/recipients";

/** Long lists are cut in the summary. */
const LISTED = 50;

/** The check of the recipients before sending: valid, invalid (and why) and duplicates. */
/** "address from “Email”, name from “Name”; 3 fields: company, plan, city". */
export function describeMapping(mapping: CsvMapping): string {
  const parts: string[] = [];
  if (mapping.emailColumn !== null) parts.push(`address from “${mapping.emailColumn}”`);
  if (mapping.nameColumns.length > 0) {
    parts.push(`name from ${mapping.nameColumns.map((c) => `“${c}”`).join(" and ")}`);
  }
  const fields = mapping.fields.map((f) => f.field);
  const described = parts.join(", ");
  if (fields.length === 0) return `${described}; no other fields`;
  return `${described}; ${plural(fields.length, "field", "fields")}: ${fields.join(", ")}`;
}

export function RecipientSummary({
  analysis,
  csvMapping = null,
  hasInput,
}: {
  analysis: RecipientAnalysis;
  csvMapping?: CsvMapping | null;
  hasInput: boolean;
}) {
  const { valid, invalid, duplicates } = analysis;
  if (!hasInput) {
    return <p className="text-sm text-slate-600">No recipients yet.</p>;
  }
  return (
    <div className="space-y-3 text-sm">
      <ul className="flex flex-wrap gap-2" aria-label="Recipient check">
        <li className="rounded-md bg-emerald-50 px-2.5 py-1 font-medium text-emerald-900 ring-1 ring-emerald-200 ring-inset">
          <span className="tabular-nums">{formatCount(valid.length)}</span> valid
        </li>
        <li
          className={`rounded-md px-2.5 py-1 font-medium ring-1 ring-inset ${invalid.length > 0 ? "bg-red-50 text-red-900 ring-red-200" : "bg-slate-50 text-slate-700 ring-slate-200"}`}
        >
          <span className="tabular-nums">{formatCount(invalid.length)}</span> invalid
        </li>
        <li
          className={`rounded-md px-2.5 py-1 font-medium ring-1 ring-inset ${duplicates.length > 0 ? "bg-amber-50 text-amber-900 ring-amber-200" : "bg-slate-50 text-slate-700 ring-slate-200"}`}
        >
          <span className="tabular-nums">{formatCount(duplicates.length)}</span>{" "}
          {duplicates.length === 1 ? "duplicate" : "duplicates"}
        </li>
      </ul>
      {csvMapping && csvMapping.emailColumn !== null && (
        <p className="text-slate-700">
          <span className="font-medium">From the CSV:</span> {describeMapping(csvMapping)}.
        </p>
      )}
      {invalid.length > 0 && (
        <div>
          <p className="font-medium text-red-800">
            {plural(invalid.length, "invalid entry", "invalid entries")} will not be sent:
          </p>
          <ul className="mt-1 max-h-48 space-y-0.5 overflow-y-auto rounded-md border border-red-100 bg-red-50/50 p-2 text-slate-800">
            {invalid.slice(0, LISTED).map((item, i) => (
              <li key={`${item.source}-${item.line}-${i}`}>
                <span className="font-medium capitalize">{describeOrigin(item)}</span>:{" "}
                <span className="font-mono break-all">{item.value || "(empty)"}</span>{" "}
                <span className="text-slate-600">— {item.reason}</span>
              </li>
            ))}
            {invalid.length > LISTED && (
              <li className="text-slate-600">and {formatCount(invalid.length - LISTED)} more</li>
            )}
          </ul>
        </div>
      )}
      {duplicates.length > 0 && (
        <details className="group">
          <summary className="cursor-pointer rounded-sm font-medium text-amber-900">
            {plural(duplicates.length, "duplicate address", "duplicate addresses")} (ignoring case)
            will be sent once
          </summary>
          <ul className="mt-1 max-h-48 space-y-0.5 overflow-y-auto rounded-md border border-amber-100 bg-amber-50/50 p-2 text-slate-800">
            {duplicates.slice(0, LISTED).map((item, i) => (
              <li key={`${item.source}-${item.line}-${i}`}>
                <span className="font-medium capitalize">{describeOrigin(item)}</span>:{" "}
                <span className="font-mono break-all">{item.email}</span>{" "}
                <span className="text-slate-600">(same as {describeOrigin(item.first)})</span>
              </li>
            ))}
            {duplicates.length > LISTED && (
              <li className="text-slate-600">and {formatCount(duplicates.length - LISTED)} more</li>
            )}
          </ul>
        </details>
      )}
    </div>
  );
}
