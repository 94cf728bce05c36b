import { type Movement, sparkline, trendMark } from "../analysis/delta.js";
import type { RelaySnapshot } from "../analysis/snapshot.js";
import { QUEUE_NAMES } from "../parsers/postqueue.js";
import type { Watch } from "../store/store.js";
import { formatDuration, relativeTo, utcSecond } from "../util/duration.js";
import type { DepthPoint } from "./chart.js";
import { esc, num, SLACK_LIMITS, slackDate, truncate } from "./format.js";
import { redactAddresses } from "./privacy.js";
import { type Block, type Card, headline, movementLine, partialNote } from "./status.js";

const section = (text: string): Block => ({
  type: "section",
  text: { type: "mrkdwn", text: truncate(redactAddresses(text), SLACK_LIMITS.sectionText) },
});

export interface RelayUpdate {
  snapshot: RelaySnapshot;
  /** Against the snapshot at the last update and the incident's first; none when the relay failed. */
  progress: Movement | undefined;
  /** Depth at the watch's start and at its last update, when known. */
  atStart: number | null;
  atLast: number | null;
  /** Depth per queue since the watch's start, oldest first (the chart and the sparkline). */
  series: DepthPoint[];
}

/** Relays shown in full in one update; the rest get a line each. */
const MAX_RELAYS = 20;
const MAX_CAUSES = 5;

const depthOf = (p: DepthPoint) => QUEUE_NAMES.reduce((n, q) => n + p.queues[q], 0);
const orDash = (n: number | null) => (n === null ? "–" : num(n));

/** The depth sparkline since the start, or "" with fewer than two points. */
export function depthSparkline(series: DepthPoint[]): string {
  return series.length > 1 ? sparkline(series.map(depthOf)) : "";
}

function relayLines(r: RelayUpdate): string {
  const s = r.snapshot;
  if (!s.ok)
    return `🔴 *${esc(s.relay)}*: not answering — ${esc(s.error ?? "unknown error")}. The watch goes on; the next update tries again.`;
  const depth = `*${esc(s.relay)}*: ${num(s.messages)} now · ${orDash(r.atLast)} at the last update · ${orDash(r.atStart)} at the start`;
  const spark = depthSparkline(r.series);
  const lines = [depth];
  if (!s.listing.complete) lines.push(esc(partialNote(s)));
  if (spark) lines.push(`\`${spark}\` total depth since the start`);
  if (r.progress) lines.push(esc(movementLine(r.progress)));
  if (r.progress?.newCauses.length)
    lines.push(`🆕 *new cause*: ${esc(truncate(r.progress.newCauses.join("; "), 600))}`);
  for (const c of (r.progress?.reasons ?? []).slice(0, MAX_CAUSES))
    lines.push(
      `• ${num(c.now)} ${trendMark(c.trend)} (was ${num(c.before)}) \`${c.class}\` ${esc(truncate(c.reason, 200))}`,
    );
  return lines.join("\n");
}

/** The update posted in the watch's thread every interval. */
export function watchUpdateCard(w: Watch, seq: number, relays: RelayUpdate[], nowMs: number): Card {
  const blocks: Block[] = [
    section(`*Progress update ${seq}* · ${formatDuration(nowMs - w.startedAtMs)} into the watch`),
  ];
  for (const r of relays.slice(0, MAX_RELAYS)) blocks.push(section(relayLines(r)));
  const rest = relays.slice(MAX_RELAYS);
  if (rest.length)
    blocks.push(
      section(
        `*${rest.length} more relays*\n${rest.map((r) => `• ${esc(headline(r.snapshot))}`).join("\n")}`,
      ),
    );
  return {
    text: truncate(`Progress update ${seq}: ${relays.map((r) => headline(r.snapshot)).join("; ")}`, 3000),
    blocks: blocks.slice(0, SLACK_LIMITS.blocks),
  };
}

/** Why a watch ended: plain words, and who stopped it (a Slack user ID, shown as a mention). */
export interface WatchEnd {
  reason: string;
  by?: string | undefined;
}

/** The ending as Slack shows it: the words escaped, the person a real mention. */
export function endText(e: WatchEnd): string {
  return `${esc(e.reason)}${e.by ? ` by <@${e.by}>` : ""}`;
}

/** The watch's first message, kept current with chat.update. */
export function watchHeaderCard(
  w: Pick<Watch, "relay" | "intervalMs" | "createdBy" | "startedAtMs" | "updates" | "nextDueMs">,
  relays: RelaySnapshot[],
  nowMs: number,
  ended?: WatchEnd,
): Card {
  const who = w.relay ?? "every relay";
  const state = ended
    ? `⏹ Watch of *${esc(who)}* ended after ${w.updates} update(s): ${endText(ended)}`
    : `👀 Watching *${esc(who)}* every ${formatDuration(w.intervalMs)} (started by <@${w.createdBy}>, ${relativeTo(w.startedAtMs, nowMs)}); updates in this thread.\n${w.updates} update(s) so far · next ${slackDate(w.nextDueMs, "{time}")}`;
  const lines = relays.map((s) => `• ${esc(headline(s))}`).join("\n");
  const summary = relays.map(headline).join("; ");
  const fallback = ended
    ? `Watch of ${who} ended: ${endText(ended)}${summary ? `; ${summary}` : ""}`
    : `Watching ${who}${summary ? `: ${summary}` : ""}`;
  return {
    text: truncate(fallback, 3000),
    blocks: [section(state), ...(lines ? [section(lines)] : [])],
  };
}

/** The same update for the terminal (`mailq-bot watch`). */
export function watchUpdateText(
  o: { seq: number; nowMs: number; everyMs: number; startedAtMs: number },
  relays: RelayUpdate[],
): string {
  const out = [
    `-- update ${o.seq} at ${utcSecond(o.nowMs)}, ${formatDuration(o.nowMs - o.startedAtMs)} into the watch (every ${formatDuration(o.everyMs)}; Ctrl-C stops)`,
  ];
  for (const r of relays) {
    out.push(`== ${headline(r.snapshot)}`);
    if (!r.snapshot.ok) {
      out.push("   the watch goes on; the next update tries again", "");
      continue;
    }
    const spark = depthSparkline(r.series);
    out.push(
      `   depth ${num(r.snapshot.messages)} now · ${orDash(r.atLast)} at the last update · ${orDash(r.atStart)} at the start${spark ? `   ${spark}` : ""}`,
    );
    if (r.progress) out.push(`   ${movementLine(r.progress)}`);
    for (const c of r.progress?.newCauses ?? []) out.push(`   NEW CAUSE: ${c}`);
    for (const c of (r.progress?.reasons ?? []).slice(0, MAX_CAUSES))
      out.push(
        `     ${String(c.now).padStart(7)} ${trendMark(c.trend)} (was ${c.before})  ${c.class.padEnd(17)} ${c.reason}`,
      );
    out.push("");
  }
  return out.join("\n");
}
