import { useId, type Ref } from "react";

import { FieldError, describedBy, fieldBorder, inputClass, sectionClass } from "./fields";

interface Props {
  /** Send at a chosen time rather than as soon as it is sent. */
  later: boolean;
  onLaterChange: (later: boolean) => void;
  /** The picker's value: a local date and time (`YYYY-MM-DDTHH:mm`), "" when not chosen. */
  value: string;
  onChange: (value: string) => void;
  /** The time zone the picker's value is read in: the browser's. */
  timeZone: string;
  /** The first and last times the picker offers. */
  bounds: { min: string; max: string } | null;
  /** A key that may not send: the campaign is saved as a draft that keeps the time. */
  draftOnly: boolean;
  /** A time must be given (a scheduled campaign being edited): no "now" choice. */
  timeRequired?: boolean;
  error?: string;
  inputRef: Ref<HTMLInputElement>;
}

const radioClass = "size-4 accent-blue-700";

/** When to send: now (the default), or at a date and time in the browser's time zone. */
export function ScheduleField({
  later,
  onLaterChange,
  value,
  onChange,
  timeZone,
  bounds,
  draftOnly,
  timeRequired = false,
  error,
  inputRef,
}: Props) {
  const id = useId();
  const ids = {
    now: `${id}-now`,
    later: `${id}-later`,
    input: `${id}-send-at`,
    hint: `${id}-send-at-hint`,
    error: `${id}-send-at-error`,
  };
  return (
    <section className={sectionClass}>
      {timeRequired ? (
        <h2 className="text-sm font-semibold text-slate-900">When to send</h2>
      ) : (
      <fieldset>
        <legend className="text-sm font-semibold text-slate-900">When to send</legend>
        <div className="mt-2 flex flex-wrap gap-x-6 gap-y-2 text-sm text-slate-900">
          <div className="flex items-center gap-2">
            <input
              type="radio"
              id={ids.now}
              name={`${id}-when`}
              value="now"
              checked={!later}
              onChange={() => onLaterChange(false)}
              className={radioClass}
            />
            <label htmlFor={ids.now}>{draftOnly ? "As soon as it is sent" : "Send now"}</label>
          </div>
          <div className="flex items-center gap-2">
            <input
              type="radio"
              id={ids.later}
              name={`${id}-when`}
              value="later"
              checked={later}
              onChange={() => onLaterChange(true)}
              className={radioClass}
            />
            <label htmlFor={ids.later}>Send later</label>
          </div>
        </div>
      </fieldset>
      )}
      {(later || timeRequired) && (
        <div className={timeRequired ? "mt-2" : "mt-4"}>
          <label htmlFor={ids.input} className="block text-sm font-semibold text-slate-900">
            Send at
          </label>
          <input
            ref={inputRef}
            id={ids.input}
            name="scheduledAt"
            type="datetime-local"
            value={value}
            min={bounds?.min}
            max={bounds?.max}
            onChange={(e) => onChange(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy(ids.hint, error && ids.error)}
            className={`${inputClass} mt-1.5 sm:w-auto ${fieldBorder(!!error)}`}
          />
          <p id={ids.hint} className="mt-1.5 text-xs text-slate-600">
            Times are in {timeZone} (your browser&apos;s time zone). At most a year ahead.
            {draftOnly &&
              " The draft keeps this time: once someone whose key may send campaigns sends it, " +
                "it goes out then, or at once if the time has passed."}
          </p>
          <FieldError id={ids.error} message={error} />
        </div>
      )}
    </section>
  );
}
