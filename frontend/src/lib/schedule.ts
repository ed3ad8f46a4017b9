import { formatDateTime } from "./format";

/** How far ahead a campaign may be scheduled: 365 days (the server's limit, domain/src/campaign.rs). */
export const MAX_SCHEDULE_AHEAD_MS = 365 * 24 * 60 * 60 * 1000;

/** The messages the server gives for a refused send time, as the dashboard shows them. */
export const SCHEDULE_IN_THE_PAST = "The time to send it must be in the future.";
export const SCHEDULE_MISSING = "Choose the date and time to send it.";
export const SCHEDULE_INVALID = "This is not a date and time. Choose one with the picker.";

/** The browser's time zone, as an IANA name ("Europe/Madrid"); "UTC" when it cannot tell. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** What a clock in `timeZone` reads at the instant `ms`, as the UTC instant of the same reading. */
function wallClock(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  const parts = formatter(timeZone).formatToParts(new Date(whole));
  const get = (type: Intl.DateTimeFormatPartTypes) =>
    Number(parts.find((p) => p.type === type)?.value ?? NaN);
  const reading = Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour") % 24,
    get("minute"),
    get("second"),
  );
  return reading + (ms - whole);
}

/** How far `timeZone`'s clocks are ahead of UTC at the instant `ms` (negative: behind). */
function offsetAt(ms: number, timeZone: string): number {
  return wallClock(ms, timeZone) - ms;
}

/** `YYYY-MM-DDTHH:mm`, with optional seconds and fraction: what `<input type="datetime-local">` holds. */
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?$/;

/**
 * The instant a clock in `timeZone` shows as `local` (a datetime-local value); null when it is
 * not one. A reading that happens twice (clocks turned back) is the earlier; one that never
 * happens (clocks turned forward) is read with the offset before the change, so it lands that
 * much later: both as browsers read a local date and time.
 */
export function localToInstant(local: string, timeZone: string): Date | null {
  const match = LOCAL_DATE_TIME.exec(local);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((n) => Number(n ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = Number((match[7] ?? "0").padEnd(3, "0"));
  const reading = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(reading);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    return null;
  }
  let before: number;
  let after: number;
  try {
    // Clocks change at most once in two days: one of these two offsets is the one that applies.
    before = offsetAt(reading - DAY_MS, timeZone);
    after = offsetAt(reading + DAY_MS, timeZone);
  } catch {
    return null;
  }
  const fits = [before, after]
    .map((offset) => reading - offset)
    .filter((instant) => offsetAt(instant, timeZone) === reading - instant)
    .sort((a, b) => a - b);
  const instant = fits[0] ?? reading - before;
  return Number.isFinite(instant) ? new Date(instant) : null;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/**
 * What a clock in `timeZone` shows at `instant`, as a datetime-local value: to the minute, or to
 * the second when the seconds are not zero. "" for an invalid instant.
 */
export function instantToLocal(instant: Date | string | number, timeZone: string): string {
  const ms = new Date(instant).getTime();
  if (Number.isNaN(ms)) return "";
  const d = new Date(wallClock(ms, timeZone));
  const minutes =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  return d.getUTCSeconds() === 0 ? minutes : `${minutes}:${pad(d.getUTCSeconds())}`;
}

/** A send time checked as the server checks it. */
export type ScheduleCheck = { ok: true; scheduledAt: string } | { ok: false; error: string };

/**
 * Checks a datetime-local value read in `timeZone` as the server will (in the future, at most a
 * year ahead of `now`), and turns it into the UTC time the API takes (`...Z`).
 */
export function checkSendTime(local: string, timeZone: string, now: number): ScheduleCheck {
  if (local.trim() === "") return { ok: false, error: SCHEDULE_MISSING };
  const instant = localToInstant(local.trim(), timeZone);
  if (!instant) return { ok: false, error: SCHEDULE_INVALID };
  const at = instant.getTime();
  if (at <= now) return { ok: false, error: SCHEDULE_IN_THE_PAST };
  if (at - now > MAX_SCHEDULE_AHEAD_MS) {
    return {
      ok: false,
      error:
        "The time to send it must be at most a year ahead, " +
        `by ${formatDateTime(new Date(now + MAX_SCHEDULE_AHEAD_MS).toISOString())}.`,
    };
  }
  return { ok: true, scheduledAt: instant.toISOString() };
}

/** The first and last times the picker offers, from `now` (to the minute, in `timeZone`). */
export function pickerBounds(timeZone: string, now: number): { min: string; max: string } {
  const minute = 60_000;
  return {
    min: instantToLocal(Math.floor(now / minute) * minute, timeZone),
    max: instantToLocal(Math.floor((now + MAX_SCHEDULE_AHEAD_MS) / minute) * minute, timeZone),
  };
}

/**
 * A send time in the user's locale and time zone, as every date of the dashboard, with the
 * seconds when it has some, and the zone named: "Dec 7, 2026, 9:00 AM (Europe/Madrid)".
 */
export function formatSendTime(iso: string, timeZone: string | null): string {
  const seconds = new Date(iso).getUTCSeconds() !== 0;
  const time = formatDateTime(iso, seconds);
  return timeZone ? `${time} (${timeZone})` : time;
}
