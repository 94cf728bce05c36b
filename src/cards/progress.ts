import { type Progress, sparkline, trendMark } from "../analysis/delta.js";
import type { RelaySnapshot } from "../analysis/snapshot.js";
import { QUEUE_NAMES } from "../parsers/postqueue.js";
import type { Watch } from "../store/store.js";
import { formatDuration } from "../util/duration.js";
import type { DepthPoint } from "./chart.js";
import { esc, num, truncate } from "./format.js";
import { type Block, type Card, headline, progressLine } from "./status.js";

const section = (text: string): Block => ({
  type: "section",
  text: { type: "mrkdwn", text: truncate(text, 3000) },
});
const context = (text: string): Block => ({
  type: "context",
  elements: [{ type: "mrkdwn", text: truncate(text, 3000) }],
});

export interface RelayProgress {
  snapshot: RelaySnapshot;
  progress: Progress | undefined;
  /** Depth at the watch's start and at its last update, when known. */
  atStart: number | null;
  atLast: number | null;
  series: DepthPoint[];
}

function relayLines(r: RelayProgress): string {
  const s = r.snapshot;
  if (!s.ok)
    return `🔴 *${esc(s.relay)}*: not answering — ${esc(s.error ?? "unknown error")}. The watch goes on.`;
  const depth = `*${esc(s.relay)}*: ${num(s.messages)} now · ${r.atLast === null ? "–" : num(r.atLast)} at the last update · ${r.atStart === null ? "–" : num(r.atStart)} at the start`;
  const spark =
    r.series.length > 1
      ? `\n\`${sparkline(r.series.map((p) => QUEUE_NAMES.reduce((n, q) => n + p.queues[q], 0)))}\` total depth since the start`
      : "";
  const line = r.progress ? `\n${esc(progressLine(r.progress))}` : "";
  const causes = (r.progress?.reasons ?? [])
    .slice(0, 5)
    .map(
      (c) =>
        `• ${num(c.now)} ${trendMark(c.trend)} (was ${num(c.before)}) \`${c.class}\` ${esc(truncate(c.reason, 200))}`,
    )
    .join("\n");
  return `${depth}${spark}${line}${causes ? `\n${causes}` : ""}`;
}

/** The update posted in the watch's thread every interval. */
export function progressCard(w: Watch, seq: number, relays: RelayProgress[], nowMs: number): Card {
  const blocks: Block[] = [
    section(`*Progress update ${seq}* · ${formatDuration(nowMs - w.startedAtMs)} into the watch`),
  ];
  for (const r of relays.slice(0, 20)) blocks.push(section(relayLines(r)));
  blocks.push(
    context("Chart colours: deferred orange · active blue · hold red · incoming green · maildrop purple"),
  );
  return {
    text: `Progress update ${seq}: ${relays.map((r) => headline(r.snapshot)).join("; ")}`,
    blocks: blocks.slice(0, 50),
  };
}

/** The watch's first message, kept current with chat.update. */
export function watchHeaderCard(w: Watch, relays: RelaySnapshot[], nowMs: number, ended?: string): Card {
  const who = w.relay ?? "every relay";
  const state = ended
    ? `⏹ Watch of *${esc(who)}* ended: ${esc(ended)}`
    : `👀 Watching *${esc(who)}* every ${formatDuration(w.intervalMs)} (started by <@${w.createdBy}>, ${formatDuration(nowMs - w.startedAtMs)} ago); updates in this thread.`;
  const lines = relays.map((s) => `• ${esc(headline(s))}`).join("\n");
  return {
    text: `${ended ? "Watch ended" : "Watching"} ${who}: ${relays.map(headline).join("; ")}`,
    blocks: [section(state), ...(lines ? [section(truncate(lines, 3000))] : [])],
  };
}
