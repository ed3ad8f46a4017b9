import Link from "next/link";

interface Props {
  page: number;
  totalPages: number;
  hrefFor: (page: number) => string;
  /** Accessible name of the navigation landmark, e.g. "Campaign pages". */
  label: string;
}

const linkClass =
  "inline-flex min-h-10 items-center rounded-md border border-slate-300 bg-white px-3 text-sm font-medium text-slate-800 shadow-xs hover:bg-slate-50";
const disabledClass =
  "inline-flex min-h-10 items-center rounded-md border border-slate-200 bg-slate-50 px-3 text-sm font-medium text-slate-400";

/** Previous / next links with "Page X of Y"; nothing when there is a single page. */
export function Pagination({ page, totalPages, hrefFor, label }: Props) {
  if (totalPages <= 1) return null;
  const hasPrev = page > 1;
  const hasNext = page < totalPages;
  return (
    <nav aria-label={label} className="flex items-center justify-between gap-3 pt-4">
      {hasPrev ? (
        <Link href={hrefFor(page - 1)} className={linkClass} rel="prev" scroll={false}>
          ← Previous
        </Link>
      ) : (
        <span className={disabledClass} aria-disabled="true">
          ← Previous
        </span>
      )}
      <p className="text-sm text-slate-600 tabular-nums">
        Page {page} of {totalPages}
      </p>
      {hasNext ? (
        <Link href={hrefFor(page + 1)} className={linkClass} rel="next" scroll={false}>
          Next →
        </Link>
      ) : (
        <span className={disabledClass} aria-disabled="true">
          Next →
        </span>
      )}
    </nav>
  );
}
