import dayjs from "dayjs";
import duration from "dayjs/plugin/duration.js";
import relativeTime from "dayjs/plugin/relativeTime.js";
import updateLocale from "dayjs/plugin/updateLocale.js";
import utc from "dayjs/plugin/utc.js";
import * as z from "zod";

// Relative times keep minutes up to two hours and hours up to two days: "50 minutes ago",
// not dayjs's default "an hour ago", which is too coarse for a queue that drains.
dayjs.extend(duration);
dayjs.extend(utc);
dayjs.extend(updateLocale);
dayjs.extend(relativeTime, {
  thresholds: [
    { l: "s", r: 9, d: "second" },
    { l: "ss", r: 59, d: "second" },
    { l: "m", r: 89, d: "second" },
    { l: "mm", r: 119, d: "minute" },
    { l: "hh", r: 47, d: "hour" },
    { l: "dd", d: "day" },
  ],
});
dayjs.updateLocale("en", {
  relativeTime: {
    future: "in %s",
    past: "%s ago",
    s: "a few seconds",
    ss: "%d seconds",
    m: "a minute",
    mm: "%d minutes",
    h: "an hour",
    hh: "%d hours",
    d: "a day",
    dd: "%d days",
    M: "a month",
    MM: "%d months",
    y: "a year",
    yy: "%d years",
  },
});

const UNIT = { s: "second", m: "minute", h: "hour", d: "day" } as const;
const DURATION_RE = /^(\d{1,6})(s|m|h|d)$/;

/** "90s", "15m", "2h", "5d" → milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  return dayjs.duration(Number(m[1]), UNIT[m[2] as keyof typeof UNIT]).asMilliseconds();
}

export const durationSchema = z
  .string()
  .regex(DURATION_RE, "a duration such as 30s, 15m, 2h or 5d")
  .transform((s) => parseDuration(s) as number);

/** 61_000 → "1m 1s"; short, for cards: the two largest units, never months. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "∞";
  const d = dayjs.duration(Math.max(0, Math.round(ms / 1000)), "second");
  // Totals, not dayjs's calendar components (those fold 30-odd days into a month).
  const [s, m, h, days] = [d.asSeconds(), d.asMinutes(), d.asHours(), d.asDays()].map(Math.floor) as [
    number,
    number,
    number,
    number,
  ];
  const part = (n: number, unit: string) => (n ? `${n}${unit}` : "");
  const [big, small] =
    s < 60
      ? [`${s}s`, ""]
      : m < 60
        ? [`${m}m`, part(s % 60, "s")]
        : h < 48
          ? [`${h}h`, part(m % 60, "m")]
          : [`${days}d`, part(h % 24, "h")];
  return small ? `${big} ${small}` : big;
}

/** "16 minutes ago", "in 14 minutes": a time relative to now, in words. */
export function relativeTo(atMs: number, nowMs: number): string {
  return dayjs(atMs).from(dayjs(nowMs));
}

/** "15 minutes ago": how long ago something was, given how long it has been. */
export function ago(ms: number): string {
  return relativeTo(0, Math.max(0, ms));
}

/** "2026-01-03 10:30 UTC": the fallback where a reader's own zone cannot be shown. */
export function utcMinute(ms: number): string {
  return dayjs.utc(ms).format("YYYY-MM-DD HH:mm [UTC]");
}

/** "2026-01-03 10:30:05Z": an audit or terminal line's time. */
export function utcSecond(ms: number): string {
  return dayjs.utc(ms).format("YYYY-MM-DD HH:mm:ss[Z]");
}
