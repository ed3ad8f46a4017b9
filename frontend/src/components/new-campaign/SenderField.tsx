import { useId, type Ref } from "react";

import type { CampaignField } from "@/lib/api/submit-errors";
import type { SenderValues } from "@/lib/campaign-form";

import { FieldError, describedBy, fieldBorder, inputClass, sectionClass } from "./fields";

type SenderPart = keyof SenderValues;

interface Props {
  values: SenderValues;
  onChange: (part: SenderPart, value: string) => void;
  errors: Partial<Record<CampaignField, string>>;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  detailsRef: Ref<HTMLDetailsElement>;
  fromNameRef: Ref<HTMLInputElement>;
  fromEmailRef: Ref<HTMLInputElement>;
  replyToRef: Ref<HTMLInputElement>;
}

/** What the collapsed section's summary says the sender is. */
export function senderSummary(values: SenderValues): string {
  const name = values.fromName.trim();
  const email = values.fromEmail.trim();
  const replyTo = values.replyTo.trim();
  const from = email === "" ? "the server's default" : name === "" ? email : `${name} <${email}>`;
  return replyTo === "" ? `From ${from}` : `From ${from}, replies to ${replyTo}`;
}

/**
 * The campaign's own sender, optional and collapsed: From name, From address (in a domain the
 * server allows, which only the server knows) and Reply-To. Empty, the server's `MAIL_FROM`
 * applies and there is no Reply-To.
 */
export function SenderField({
  values,
  onChange,
  errors,
  open,
  onOpenChange,
  detailsRef,
  fromNameRef,
  fromEmailRef,
  replyToRef,
}: Props) {
  const id = useId();
  const ids = {
    name: `${id}-from-name`,
    nameError: `${id}-from-name-error`,
    email: `${id}-from-email`,
    emailHint: `${id}-from-email-hint`,
    emailError: `${id}-from-email-error`,
    replyTo: `${id}-reply-to`,
    replyToHint: `${id}-reply-to-hint`,
    replyToError: `${id}-reply-to-error`,
  };
  const nameError = errors["from.name"];
  const emailError = errors["from.email"];
  const replyToError = errors.replyTo;
  return (
    <details
      ref={detailsRef}
      open={open}
      onToggle={(e) => onOpenChange(e.currentTarget.open)}
      className={`${sectionClass} group`}
    >
      <summary className="-m-1 cursor-pointer rounded-sm p-1 text-sm font-semibold text-slate-900">
        Sender <span className="font-normal text-slate-600">(optional)</span>
        <span className="block pl-4 text-xs font-normal text-slate-600 group-open:hidden">
          {senderSummary(values)}
          {(nameError || emailError || replyToError) && (
            <span className="font-medium text-red-700"> · has an error</span>
          )}
        </span>
      </summary>
      <div className="mt-3 grid gap-4 sm:grid-cols-2">
        <div>
          <label htmlFor={ids.name} className="block text-sm font-semibold text-slate-900">
            From name
          </label>
          <input
            ref={fromNameRef}
            id={ids.name}
            name="fromName"
            type="text"
            autoComplete="off"
            value={values.fromName}
            onChange={(e) => onChange("fromName", e.target.value)}
            aria-invalid={nameError ? true : undefined}
            aria-describedby={describedBy(nameError && ids.nameError)}
            className={`${inputClass} mt-1.5 ${fieldBorder(!!nameError)}`}
            placeholder="The Acme team"
          />
          <FieldError id={ids.nameError} message={nameError} />
        </div>
        <div>
          <label htmlFor={ids.email} className="block text-sm font-semibold text-slate-900">
            From address
          </label>
          <input
            ref={fromEmailRef}
            id={ids.email}
            name="fromEmail"
            type="email"
            autoComplete="off"
            value={values.fromEmail}
            onChange={(e) => onChange("fromEmail", e.target.value)}
            aria-invalid={emailError ? true : undefined}
            aria-describedby={describedBy(ids.emailHint, emailError && ids.emailError)}
            className={`${inputClass} mt-1.5 ${fieldBorder(!!emailError)}`}
            placeholder="news@example.org"
          />
          <p id={ids.emailHint} className="mt-1.5 text-xs text-slate-600">
            In a domain this server may send from. Empty: the server&apos;s default sender.
          </p>
          <FieldError id={ids.emailError} message={emailError} />
        </div>
        <div className="sm:col-span-2">
          <label htmlFor={ids.replyTo} className="block text-sm font-semibold text-slate-900">
            Reply-To
          </label>
          <input
            ref={replyToRef}
            id={ids.replyTo}
            name="replyTo"
            type="email"
            autoComplete="off"
            value={values.replyTo}
            onChange={(e) => onChange("replyTo", e.target.value)}
            aria-invalid={replyToError ? true : undefined}
            aria-describedby={describedBy(ids.replyToHint, replyToError && ids.replyToError)}
            className={`${inputClass} mt-1.5 sm:max-w-md ${fieldBorder(!!replyToError)}`}
            placeholder="help@example.org"
          />
          <p id={ids.replyToHint} className="mt-1.5 text-xs text-slate-600">
            Where replies go: any address. Empty: to the sender.
          </p>
          <FieldError id={ids.replyToError} message={replyToError} />
        </div>
      </div>
    </details>
  );
}
