import { breakdown, type Counts } from "@/lib/progress";

interface Props {
  counts: Counts;
  /** Accessible name, e.g. "Delivery progress of Spring sale". */
  label: string;
  size?: "sm" | "lg";
}

/**
 * Sent (green), failed (red), cancelled (gray) and suppressed (orange) segments of one bar; the
 * rest is remaining.
 * Exposed as a progressbar whose value is the share with a final outcome.
 */
export function ProgressBar({ counts, label, size = "sm" }: Props) {
  const b = breakdown(counts);
  const cancelled = counts.cancelled ?? 0;
  const suppressed = counts.suppressed ?? 0;
  const text =
    counts.total === 0
      ? "No recipients"
      : `${b.done}% done: ${counts.sent} sent, ${counts.failed} failed, ${
          cancelled > 0 ? `${cancelled} cancelled, ` : ""
        }${suppressed > 0 ? `${suppressed} suppressed, ` : ""}${counts.pending} remaining`;
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={b.done}
      aria-valuetext={text}
      className={`flex w-full overflow-hidden rounded-full bg-slate-200 ${size === "lg" ? "h-4" : "h-2"}`}
    >
      <div
        className="h-full bg-emerald-600 transition-[width] duration-500 ease-out"
        style={{ width: `${b.sent}%` }}
        data-segment="sent"
      />
      <div
        className="h-full bg-red-600 transition-[width] duration-500 ease-out"
        style={{ width: `${b.failed}%` }}
        data-segment="failed"
      />
      <div
        className="h-full bg-slate-500 transition-[width] duration-500 ease-out"
        style={{ width: `${b.cancelled}%` }}
        data-segment="cancelled"
      />
      <div
        className="h-full bg-orange-500 transition-[width] duration-500 ease-out"
        style={{ width: `${b.suppressed}%` }}
        data-segment="suppressed"
      />
    </div>
  );
}
