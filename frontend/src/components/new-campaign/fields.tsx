export const inputClass =
  "block w-full rounded-md border bg-white px-3 py-2 text-sm text-slate-900 shadow-xs placeholder:text-slate-500 focus-visible:outline-2 focus-visible:outline-offset-0 focus-visible:outline-blue-600";

export const sectionClass = "rounded-lg border border-slate-200 bg-white p-4 shadow-xs sm:p-5";

export function fieldBorder(invalid: boolean): string {
  return invalid ? "border-red-600" : "border-slate-300";
}

/** The ids a field's `aria-describedby` lists, leaving out those not shown. */
export function describedBy(...parts: (string | false | undefined)[]): string | undefined {
  return parts.filter(Boolean).join(" ") || undefined;
}

/** A field's error message, linked to it through `aria-describedby`. */
export function FieldError({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p id={id} className="mt-1.5 text-sm font-medium text-red-700">
      {message}
    </p>
  );
}
