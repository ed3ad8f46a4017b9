import type { ReactNode, Ref } from "react";

/**
 * A white panel with an optional heading. With `headingRef` the heading can take focus (from
 * script only), for when what had it goes away.
 */
export function Card({
  title,
  actions,
  children,
  className = "",
  headingId,
  headingRef,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  headingId?: string;
  headingRef?: Ref<HTMLHeadingElement>;
}) {
  return (
    <section
      aria-labelledby={title ? headingId : undefined}
      className={`rounded-lg border border-slate-200 bg-white shadow-xs ${className}`}
    >
      {title && (
        <div className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-4 py-3 sm:px-5">
          <h2
            id={headingId}
            ref={headingRef}
            tabIndex={headingRef ? -1 : undefined}
            className="text-base font-semibold text-slate-900"
          >
            {title}
          </h2>
          {actions}
        </div>
      )}
      <div className="p-4 sm:p-5">{children}</div>
    </section>
  );
}

/** A figure with its caption: "Sent 1,234". */
export function Stat({
  label,
  value,
  tone = "default",
  hint,
}: {
  label: string;
  value: ReactNode;
  tone?: "default" | "sent" | "failed";
  hint?: ReactNode;
}) {
  const color =
    tone === "sent" ? "text-emerald-700" : tone === "failed" ? "text-red-700" : "text-slate-900";
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium tracking-wide text-slate-600 uppercase">{label}</dt>
      <dd className={`mt-1 text-2xl font-semibold tabular-nums ${color}`}>{value}</dd>
      {hint && <dd className="mt-0.5 text-xs text-slate-600">{hint}</dd>}
    </div>
  );
}

/** A small square that matches a bar colour, for legends. */
export function Swatch({
  tone,
}: {
  tone: "sent" | "failed" | "cancelled" | "suppressed" | "remaining";
}) {
  const color = {
    sent: "bg-emerald-600",
    failed: "bg-red-600",
    cancelled: "bg-slate-500",
    suppressed: "bg-orange-500",
    remaining: "bg-slate-300",
  }[tone];
  return <span aria-hidden="true" className={`inline-block size-2.5 rounded-sm ${color}`} />;
}

export function Spinner({ label = "Loading" }: { label?: string }) {
  return (
    <span role="status" className="inline-flex items-center gap-2 text-sm text-slate-600">
      <span
        aria-hidden="true"
        className="size-4 animate-spin rounded-full border-2 border-slate-300 border-t-blue-600"
      />
      {label}…
    </span>
  );
}

/** The spinner inside a busy button: `light` on a filled (dark) button, else dark on light. */
export function ButtonSpinner({ light = true }: { light?: boolean }) {
  return (
    <span
      aria-hidden="true"
      className={`size-4 animate-spin rounded-full border-2 ${light ? "border-white/40 border-t-white" : "border-slate-300 border-t-slate-700"}`}
    />
  );
}

/** A message for failed loads that has no data to show. */
export function ErrorNotice({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-900">
      <p className="font-semibold">{title}</p>
      {children && <div className="mt-1">{children}</div>}
    </div>
  );
}

export const buttonPrimary =
  "inline-flex min-h-10 items-center justify-center gap-2 rounded-md bg-blue-700 px-4 text-sm font-semibold text-white shadow-xs hover:bg-blue-800 disabled:cursor-not-allowed disabled:bg-slate-400";
export const buttonSecondary =
  "inline-flex min-h-10 items-center justify-center gap-2 rounded-md border border-slate-300 bg-white px-4 text-sm font-semibold text-slate-800 shadow-xs hover:bg-slate-50 disabled:cursor-not-allowed disabled:text-slate-400";
/** Confirms an action that destroys something. */
export const buttonDanger =
  "inline-flex min-h-10 items-center justify-center gap-2 rounded-md bg-red-700 px-4 text-sm font-semibold text-white shadow-xs hover:bg-red-800 disabled:cursor-not-allowed disabled:bg-slate-400";
/** Starts an action that destroys something (confirmed with `buttonDanger`). */
export const buttonDangerOutline =
  "inline-flex min-h-10 items-center justify-center gap-2 rounded-md border border-red-300 bg-white px-4 text-sm font-semibold text-red-800 shadow-xs hover:bg-red-50 disabled:cursor-not-allowed disabled:text-slate-400";

/**
 * A page's first load failed: why, and a button to try again. Polling retries by itself; the
 * button lets the user not wait.
 */
export function LoadFailed({
  title,
  message,
  onRetry,
}: {
  title: string;
  message: string;
  onRetry: () => void;
}) {
  return (
    <ErrorNotice title={title}>
      <p>{message}</p>
      <button type="button" onClick={onRetry} className={`${buttonSecondary} mt-3`}>
        Try again
      </button>
    </ErrorNotice>
  );
}

/** A page's first load in progress. */
export function PageLoading({ label }: { label: string }) {
  return (
    <div className="py-12 text-center">
      <Spinner label={label} />
    </div>
  );
}
