import { useDeferredValue, useId, type Ref } from "react";

import { HtmlPreview } from "../HtmlPreview";
import { FieldError, describedBy, fieldBorder, inputClass, sectionClass } from "./fields";

interface Props {
  value: string;
  onChange: (value: string) => void;
  error?: string;
  textareaRef: Ref<HTMLTextAreaElement>;
}

/** The HTML body next to its preview, rendered in a sandboxed iframe. */
export function BodyField({ value, onChange, error, textareaRef }: Props) {
  const id = useId();
  const ids = { input: `${id}-body`, error: `${id}-body-error` };
  const previewHtml = useDeferredValue(value);
  return (
    <section className={sectionClass}>
      <div className="grid gap-4 lg:grid-cols-2">
        <div className="flex min-w-0 flex-col">
          <label htmlFor={ids.input} className="block text-sm font-semibold text-slate-900">
            HTML body
          </label>
          <textarea
            ref={textareaRef}
            id={ids.input}
            name="body"
            value={value}
            onChange={(e) => onChange(e.target.value)}
            spellCheck={false}
            rows={16}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy(error && ids.error)}
            className={`${inputClass} mt-1.5 min-h-64 flex-1 font-mono text-xs leading-relaxed ${fieldBorder(!!error)}`}
            placeholder={"<h1>Hello!</h1>\n<p>News of the month.</p>"}
          />
          <FieldError id={ids.error} message={error} />
        </div>
        <div className="flex min-w-0 flex-col">
          <p className="text-sm font-semibold text-slate-900" id={`${id}-preview-label`}>
            Preview
          </p>
          {previewHtml.trim() === "" ? (
            <div className="mt-1.5 flex min-h-64 flex-1 items-center justify-center rounded-md border border-dashed border-slate-300 bg-slate-50 p-6 text-center text-sm text-slate-600">
              The preview of the HTML body appears here.
            </div>
          ) : (
            <HtmlPreview
              html={previewHtml}
              title="Email preview"
              className="mt-1.5 min-h-64 flex-1 lg:h-auto"
            />
          )}
          <p className="mt-1.5 text-xs text-slate-600">
            Rendered in a sandbox: scripts and forms do not run here.
          </p>
        </div>
      </div>
    </section>
  );
}
