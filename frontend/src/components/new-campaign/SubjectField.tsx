import { useId, type Ref } from "react";

import { MAX_SUBJECT_CHARS } from "@/lib/campaign-form";

import { FieldError, describedBy, fieldBorder, inputClass, sectionClass } from "./fields";

interface Props {
  value: string;
  onChange: (value: string) => void;
  error?: string;
  inputRef: Ref<HTMLInputElement>;
  /** The id of the merge tags' hint, which describes the subject too. */
  tagsHintId?: string;
}

/** The subject, with its length counted as the API counts it. */
export function SubjectField({ value, onChange, error, inputRef, tagsHintId }: Props) {
  const id = useId();
  const ids = { input: `${id}-subject`, hint: `${id}-subject-hint`, error: `${id}-subject-error` };
  const chars = [...value.trim()].length;
  return (
    <section className={sectionClass}>
      <label htmlFor={ids.input} className="block text-sm font-semibold text-slate-900">
        Subject
      </label>
      <input
        ref={inputRef}
        id={ids.input}
        name="subject"
        type="text"
        autoComplete="off"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(ids.hint, tagsHintId, error && ids.error)}
        className={`${inputClass} mt-1.5 ${fieldBorder(!!error)}`}
        placeholder="Our November newsletter"
      />
      <p
        id={ids.hint}
        className={`mt-1.5 text-xs tabular-nums ${chars > MAX_SUBJECT_CHARS ? "text-red-700" : "text-slate-600"}`}
      >
        One line, {chars} of {MAX_SUBJECT_CHARS} characters. Merge tags work here too (see the
        body&apos;s list).
      </p>
      <FieldError id={ids.error} message={error} />
    </section>
  );
}
