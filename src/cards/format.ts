import { formatDuration, utcMinute } from "../util/duration.js";

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  contextElements: 10,
  headerText: 150,
} as const;

export function num(n: number): string {
  return n.toLocaleString("en-US");
}

export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Slack mrkdwn control characters. */
export function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export function age(fromIso: string | null, nowMs: number): string {
  if (!fromIso) return "–";
  return formatDuration(nowMs - Date.parse(fromIso));
}

/**
 * A time each reader sees in their own zone (Slack's <!date^…>), UTC as the fallback text.
 * format is Slack's: {date_short_pretty} {time}, {time_secs}, …
 */
export function slackDate(ms: number, format = "{date_short_pretty} {time}"): string {
  return `<!date^${Math.floor(ms / 1000)}^${format}|${utcMinute(ms)}>`;
}
