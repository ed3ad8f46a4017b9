import { describe, expect, it } from "vitest";

import {
  MAX_SCHEDULE_AHEAD_MS,
  SCHEDULE_INVALID,
  SCHEDULE_IN_THE_PAST,
  SCHEDULE_MISSING,
  checkSendTime,
  formatSendTime,
  instantToLocal,
  localToInstant,
  pickerBounds,
} from "./schedule";

const iso = (local: string, zone: string) => localToInstant(local, zone)?.toISOString();

describe("a local date and time, read in a given time zone", () => {
  it("becomes the UTC instant a clock there shows it", () => {
    // Madrid: UTC+1 in winter, UTC+2 in summer.
    expect(iso("2026-12-07T09:00", "Europe/Madrid")).toBe("2026-12-07T08:00:00.000Z");
    expect(iso("2026-07-01T09:00", "Europe/Madrid")).toBe("2026-07-01T07:00:00.000Z");
    expect(iso("2026-12-07T09:00", "America/New_York")).toBe("2026-12-07T14:00:00.000Z");
    expect(iso("2026-12-07T09:00", "Asia/Kolkata")).toBe("2026-12-07T03:30:00.000Z");
    expect(iso("2026-12-07T09:00", "Pacific/Chatham")).toBe("2026-12-06T19:15:00.000Z");
    expect(iso("2026-12-07T09:00", "UTC")).toBe("2026-12-07T09:00:00.000Z");
    // Seconds, and the day before in UTC.
    expect(iso("2027-01-01T00:30:15", "Europe/Madrid")).toBe("2026-12-31T23:30:15.000Z");
  });

  it("reads the hours clocks skip or repeat as browsers do", () => {
    // Turned forward at 02:00 on 29 March 2026: 02:30 never happens, and is 03:30.
    expect(iso("2026-03-29T02:30", "Europe/Madrid")).toBe("2026-03-29T01:30:00.000Z");
    // Turned back at 03:00 on 25 October 2026: 02:30 happens twice, the first is meant.
    expect(iso("2026-10-25T02:30", "Europe/Madrid")).toBe("2026-10-25T00:30:00.000Z");
    expect(iso("2026-11-01T01:30", "America/New_York")).toBe("2026-11-01T05:30:00.000Z");
  });

  it("is what the browser's own clock reads, in its zone", () => {
    // `new Date("YYYY-MM-DDTHH:mm")` reads a local time in the process's zone (TZ).
    const saved = process.env.TZ;
    try {
      for (const zone of ["Europe/Madrid", "America/New_York", "Australia/Lord_Howe"]) {
        process.env.TZ = zone;
        expect(Intl.DateTimeFormat().resolvedOptions().timeZone).toBe(zone);
        for (const local of [
          "2026-12-07T09:00",
          "2026-03-29T02:30",
          "2026-10-25T02:30:45",
          "2026-03-08T02:30",
          "2026-11-01T01:30",
          "2026-04-05T01:45",
          "2026-10-04T02:15",
        ]) {
          expect(localToInstant(local, zone)?.getTime(), `${local} in ${zone}`).toBe(
            new Date(local).getTime(),
          );
        }
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it("refuses what is not a date and time", () => {
    for (const bad of ["", "2026-12-07", "2026-02-30T09:00", "2026-12-07T24:00", "tomorrow"]) {
      expect(localToInstant(bad, "Europe/Madrid")).toBeNull();
    }
    expect(localToInstant("2026-12-07T09:00", "Not/AZone")).toBeNull();
  });

  it("goes back to the same reading, to the minute or the second", () => {
    expect(instantToLocal("2026-12-07T08:00:00Z", "Europe/Madrid")).toBe("2026-12-07T09:00");
    expect(instantToLocal("2026-12-07T08:00:15.500Z", "Europe/Madrid")).toBe(
      "2026-12-07T09:00:15",
    );
    expect(instantToLocal("2026-12-07T14:00:00Z", "America/New_York")).toBe("2026-12-07T09:00");
    expect(instantToLocal("not a date", "UTC")).toBe("");
  });
});

describe("checking a send time as the server does", () => {
  const now = Date.parse("2026-11-30T22:00:00Z"); // 23:00 in Madrid

  it("turns a time ahead into the UTC time the API takes", () => {
    expect(checkSendTime("2026-12-07T09:00", "Europe/Madrid", now)).toEqual({
      ok: true,
      scheduledAt: "2026-12-07T08:00:00.000Z",
    });
    expect(checkSendTime("2026-11-30T23:00:01", "Europe/Madrid", now)).toEqual({
      ok: true,
      scheduledAt: "2026-11-30T22:00:01.000Z",
    });
  });

  it("asks for a time, a valid one, one in the future", () => {
    expect(checkSendTime("", "Europe/Madrid", now)).toEqual({ ok: false, error: SCHEDULE_MISSING });
    expect(checkSendTime("2026-13-01T09:00", "Europe/Madrid", now)).toEqual({
      ok: false,
      error: SCHEDULE_INVALID,
    });
    // 23:00 in Madrid is now: not in the future.
    expect(checkSendTime("2026-11-30T23:00", "Europe/Madrid", now)).toEqual({
      ok: false,
      error: SCHEDULE_IN_THE_PAST,
    });
    expect(SCHEDULE_IN_THE_PAST).toBe("The time to send it must be in the future.");
  });

  it("takes a year ahead, not a minute more", () => {
    const limit = instantToLocal(now + MAX_SCHEDULE_AHEAD_MS, "Europe/Madrid");
    expect(limit).toBe("2027-11-30T23:00");
    expect(checkSendTime(limit, "Europe/Madrid", now).ok).toBe(true);
    const late = checkSendTime("2027-11-30T23:01", "Europe/Madrid", now);
    expect(late.ok).toBe(false);
    expect(!late.ok && late.error).toMatch(/^The time to send it must be at most a year ahead, by .+2027/);
  });

  it("offers the picker from now to a year ahead", () => {
    expect(pickerBounds("Europe/Madrid", now + 30_500)).toEqual({
      min: "2026-11-30T23:00",
      max: "2027-11-30T23:00",
    });
  });
});

describe("a send time shown", () => {
  it("names the time zone, and shows seconds only when there are some", () => {
    const plain = formatSendTime("2026-12-07T08:00:00Z", "Europe/Madrid");
    expect(plain).toMatch(/ \(Europe\/Madrid\)$/);
    expect(plain).not.toMatch(/:00:00/);
    expect(formatSendTime("2026-12-07T08:00:15Z", null)).toMatch(/:15/);
  });
});
