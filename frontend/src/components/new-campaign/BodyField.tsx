import { useId, type ReactNode, type Ref } from "react";

import { FieldError, describedBy, fieldBorder, inputClass, sectionClass } from "./fields";

interface Props {
  value: string;
  onChange: (value: string) => void;
  error?: string;
  textareaRef: Ref<HTMLTextAreaElement>;
  /** The merge tags one can use, shown under the label (its id describes the field). */
  tagsHint: ReactNode;
  tagsHintId: string;
  /** The message's preview, next to the body. */
  preview: ReactNode;
}

/** The HTML body next to its preview (see `MessagePreview`). */
export function BodyField({ value, onChange, error, textareaRef, tagsHint, tagsHintId, preview }: Props) {
  const id = useId();
  const ids = { input: `${id}-body`, error: `${id}-body-error` };
  return (
    <section className={sectionClass}>
      <div className="grid gap-4 lg:grid-cols-2">
        <div className="flex min-w-0 flex-col">
          <label htmlFor={ids.input} className="block text-sm font-semibold text-slate-900">
            HTML body
          </label>
          {tagsHint}
          <textarea
            ref={textareaRef}
            id={ids.input}
            name="body"
            value={value}
            onChange={(e) => onChange(e.target.value)}
            spellCheck={false}
            rows={16}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy(tagsHintId, error && ids.error)}
            className={`${inputClass} mt-1.5 min-h-64 flex-1 font-mono text-xs leading-relaxed ${fieldBorder(!!error)}`}
            placeholder={"<h1>Hello {{ name | default(\"there\") }}!</h1>\n<p>News of the month.</p>"}
          />
          <FieldError id={ids.error} message={error} />
        </div>
        <div className="flex min-w-0 flex-col">
          {preview}
          <p className="mt-1.5 text-xs text-slate-600">
            Rendered in a sandbox: scripts and forms do not run here.
          </p>
        </div>
      </div>
    </section>
  );
}
