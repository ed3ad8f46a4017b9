const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateTimeSeconds = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "medium",
});

/** A count in the user's locale, e.g. "12,345". */
export function formatCount(n: number): string {
  return integer.format(n);
}

/** A date and time in the user's locale and time zone; "—" when missing or invalid. */
export function formatDateTime(iso: string | null | undefined, withSeconds = false): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return (withSeconds ? dateTimeSeconds : dateTime).format(date);
}

/** A send rate, e.g. "12.5 / s" or "30 / min" when slow. */
export function formatRate(perSecond: number | null): string {
  if (perSecond === null) return "—";
  if (perSecond === 0) return "0 / s";
  if (perSecond < 1) return `${oneDecimal.format(perSecond * 60)} / min`;
  return `${oneDecimal.format(perSecond)} / s`;
}

/** A duration in seconds, e.g. "45 s", "3 min 20 s", "2 h 5 min". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) {
    const rest = s % 60;
    return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const rest = minutes % 60;
    return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
  }
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** "1 address" / "3 addresses". */
export function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

const clock = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });
const clockSeconds = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

/** A time of day in the user's locale and time zone, as `formatDateTime` writes it ("9:30 AM"). */
export function formatClock(ms: number, withSeconds = false): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return "—";
  return (withSeconds ? clockSeconds : clock).format(date);
}

/**
 * How long before `now` (ms) the instant `iso` was, e.g. "3 s ago", "5 min 20 s ago"; "—" when
 * missing or invalid. An instant ahead of `now` (clocks a little apart) is "0 s ago".
 */
export function formatAgo(iso: string | null | undefined, now: number): string {
  const at = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(at)) return "—";
  return `${formatDuration((now - at) / 1000)} ago`;
}
