import { type Movement, trendMark } from "../analysis/delta.js";
import type { QueueCounts, ReasonRow } from "../analysis/queue-summary.js";
import { explainReason, LEVER_SHORT, shortCause } from "../analysis/reasons.js";
import { type LoadReport, masterDown, type RelaySnapshot } from "../analysis/snapshot.js";
import { QUEUE_NAMES } from "../parsers/postqueue.js";
import { ago, formatDuration } from "../util/duration.js";
import { fleetTotals, relayState, STATE_ICON, worstFirst } from "./fleet.js";
import { age, bytes, esc, num, SLACK_LIMITS, truncate } from "./format.js";
import { redactAddresses } from "./privacy.js";

// Block Kit is plain JSON; a local type keeps this module free of the Slack SDK.
export type Block = Record<string, unknown> & { type: string };
export interface Card {
  text: string;
  blocks: Block[];
}

export interface StatusCardOptions {
  nowMs: number;
  /** Reasons and domains shown per relay. */
  top?: number;
  /** Change since the previous snapshot and the incident's first, per relay. */
  progress?: Map<string, Movement>;
  /** One line per relay on a blocklist (src/relay/reputation.ts): shown first, so nobody requeues into it. */
  warnings?: Map<string, string>;
}

const signed = (n: number) => (n > 0 ? `+${num(n)}` : n < 0 ? `−${num(-n)}` : "±0");

/** Deferred, active and hold always; maildrop and incoming only when they moved. */
function queueChanges(q: QueueCounts): string {
  return (["deferred", "active", "hold", "incoming", "maildrop"] as const)
    .filter((n) => n === "deferred" || n === "active" || n === "hold" || q[n] !== 0)
    .map((n) => `${n} ${signed(q[n])}`)
    .join(", ");
}

/** One line: how the queue moved, how fast it drains, when it empties and when mail starts to bounce. */
export function movementLine(p: Movement): string {
  const bits: string[] = [];
  if (p.sinceLast)
    bits.push(
      `since last (${ago(p.sinceLast.minutes * 60_000)}): total ${signed(p.sinceLast.messages)}, ${queueChanges(p.sinceLast.queues)}`,
    );
  else bits.push("first snapshot of this relay");
  if (p.sinceStart)
    bits.push(
      `since the incident began (${ago(p.sinceStart.minutes * 60_000)}): total ${signed(p.sinceStart.messages)}, ${queueChanges(p.sinceStart.queues)}`,
    );
  if (p.drainPerMinute !== null)
    bits.push(
      p.drainPerMinute > 0
        ? `draining ${p.drainPerMinute.toFixed(1)}/min`
        : p.drainPerMinute < 0
          ? `GROWING ${(-p.drainPerMinute).toFixed(1)}/min`
          : "not draining",
    );
  if (p.minutesToEmpty !== null) bits.push(`empty in ~${formatDuration(p.minutesToEmpty * 60_000)}`);
  if (p.minutesToFirstBounce !== null)
    bits.push(`oldest deferred bounces in ${formatDuration(p.minutesToFirstBounce * 60_000)}`);
  return bits.join(" · ");
}

const mrkdwn = (text: string) => ({
  type: "mrkdwn",
  text: truncate(redactAddresses(text), SLACK_LIMITS.sectionText),
});
const section = (text: string): Block => ({ type: "section", text: mrkdwn(text) });

export function headline(s: RelaySnapshot): string {
  if (!s.ok) return redactAddresses(`${s.relay}: not answering · ${s.error ?? "unknown error"}`);
  if (!s.listing.complete) return redactAddresses(partialHeadline(s));
  const parts = [`${s.relay}: ${num(s.queues.deferred)} deferred`];
  if (s.queues.active) parts.push(`${num(s.queues.active)} active`);
  if (s.queues.hold) parts.push(`${num(s.queues.hold)} on hold`);
  const top = s.topReasons[0];
  if (top) parts.push(`top cause: ${shortCause(top.reason)} (${num(top.count)})`);
  else if (s.messages === 0) parts.push("queue empty");
  return redactAddresses(parts.join(" · "));
}

/**
 * Why a listing is incomplete: still running (a first answer, the rest follows), stopped by
 * Postfix being down (postqueue cannot list without master), or ended short (its deadline).
 * An ended listing carries its reason as a postqueue -j probe problem; a running one has none.
 */
export function listingState(s: RelaySnapshot): "complete" | "running" | "postfix down" | "ended short" {
  if (s.listing.complete) return "complete";
  if (!s.probeErrors.some((e) => e.probe === "postqueue -j")) return "running";
  return masterDown(s) ? "postfix down" : "ended short";
}

/** How much of the listing was read, for an incomplete answer, and whether more is coming. */
export function partialNote(s: RelaySnapshot): string {
  const share = s.listing.shareRead;
  const read = share === null ? `${num(s.listing.entriesRead)} messages` : `${Math.floor(share * 100)}%`;
  const state = listingState(s);
  if (state === "postfix down") return "🛑 Postfix is not running: nothing is delivered";
  if (state === "ended short") return `⚠ listing incomplete: ${read} listed`;
  return `⏳ partial: ${read} listed so far`;
}

/**
 * A partial answer says so first. Counts come from the queue directories when they were counted
 * (else they are lower bounds), and the top cause from the mail log's tail, which is read whole
 * at any queue size, or is labelled as the part of the listing read so far. Never "queue empty".
 */
function partialHeadline(s: RelaySnapshot): string {
  const atLeast = s.listing.countsExact ? "" : "≥";
  const parts = [`${s.relay}: ${partialNote(s)}`, `${atLeast}${num(s.queues.deferred)} deferred`];
  if (s.queues.active) parts.push(`${atLeast}${num(s.queues.active)} active`);
  if (s.queues.hold) parts.push(`${atLeast}${num(s.queues.hold)} on hold`);
  const causes = causesShown(s);
  const topCause = causes.rows[0];
  if (topCause && causes.fromLog)
    parts.push(
      `top cause in the mail log (last ${formatDuration((s.log?.windowMinutes ?? 60) * 60_000)}): ${shortCause(topCause.reason)} (${num(topCause.count)})`,
    );
  else if (topCause) parts.push(`top cause so far: ${shortCause(topCause.reason)} (${num(topCause.count)})`);
  return parts.join(" · ");
}

/** Below this share of the queue listed, a partial card shows the mail log's causes instead. */
const LISTING_CAUGHT_UP = 0.5;

/**
 * The causes a card lists: the listing's when complete; while it is partial, the mail log's tail
 * (read whole at any queue size), labelled as such, until the listing has read half the queue.
 */
export function causesShown(s: RelaySnapshot): { title: string; rows: ReasonRow[]; fromLog: boolean } {
  if (s.listing.complete) return { title: "*Top deferral reasons*", rows: s.topReasons, fromLog: false };
  const logRows = s.log?.reasons ?? [];
  const share = s.listing.shareRead;
  if (logRows.length && (share === null || share < LISTING_CAUGHT_UP))
    return {
      title: `*Top deferral causes from the mail log* (last ${formatDuration((s.log?.windowMinutes ?? 60) * 60_000)}, ${num(s.log?.deferrals ?? 0)} deferrals; the listing has read ${num(s.listing.entriesRead)} messages so far)`,
      rows: logRows,
      fromLog: true,
    };
  return {
    title: `*Top deferral reasons so far* (${num(s.listing.entriesRead)} messages listed)`,
    rows: s.topReasons,
    fromLog: false,
  };
}

function healthLine(s: RelaySnapshot): string {
  const bits: string[] = [];
  const sv = s.service;
  if (sv) {
    bits.push(sv.masterRunning ? "master ✓" : "master ✗ NOT RUNNING");
    bits.push(
      sv.qmgrRunning
        ? `qmgr ✓${sv.qmgrUptimeS !== undefined && sv.qmgrUptimeS < 60 ? " (restarted <1m ago)" : ""}`
        : "qmgr ✗ MISSING",
    );
  }
  const d = s.disk;
  if (d) {
    const b = d.bytes ? `${d.bytes.usedPercent}% used (${bytes(d.bytes.available)} free)` : "bytes ?";
    const i = d.inodes ? `inodes ${d.inodes.usedPercent}%` : "inodes ?";
    bits.push(`${d.warning ? "⚠️ " : ""}spool ${b}, ${i}`);
  }
  if (s.load) {
    const io = ioStall(s.load);
    bits.push(`load ${s.load.load1.toFixed(2)}${io ? ` · ${io}` : ""}`);
  }
  return bits.join(" · ");
}

const percent = (v: number) => (v > 0 && v < 1 ? "under 1%" : `${Math.round(v)}%`);

/**
 * What was measured of the relay's I/O stall: PSI's share of the last 10 s, else vmstat's iowait,
 * else nothing. A snapshot stored before PSI was read has no ioPressurePercent at all.
 */
export function ioStall(l: LoadReport): string | undefined {
  if (typeof l.ioPressurePercent === "number") return `I/O stall ${percent(l.ioPressurePercent)} (10 s)`;
  if (typeof l.iowaitPercent === "number") return `iowait ${percent(l.iowaitPercent)}`;
  return undefined;
}

function relayBlocks(s: RelaySnapshot, o: Required<StatusCardOptions>): Block[] {
  const icon = STATE_ICON[relayState(s)];
  const blocks: Block[] = [section(`${icon} *${esc(headline(s))}*`)];
  const warning = o.warnings.get(s.relay);
  if (warning) blocks.push(section(`⛔ *${esc(warning)}*`));
  if (!s.ok) return blocks;
  const fields = [
    ...QUEUE_NAMES.map((q) => mrkdwn(`*${q}*\n${num(s.queues[q])}`)),
    mrkdwn(
      s.listing.complete
        ? `*messages*\n${num(s.messages)} (${bytes(s.bytes)})`
        : `*messages*\n${num(s.messages)} (${bytes(s.bytes)} listed so far)`,
    ),
    mrkdwn(`*oldest*\n${age(s.oldestArrival, o.nowMs)}`),
  ];
  blocks.push({ type: "section", fields: fields.slice(0, SLACK_LIMITS.fields) });
  const causes = causesShown(s);
  if (causes.rows.length) {
    const trends = new Map((o.progress.get(s.relay)?.reasons ?? []).map((r) => [r.reason, r.trend]));
    const rows = causes.rows.slice(0, o.top).map((r) => {
      const t = causes.fromLog ? undefined : trends.get(r.reason);
      // The lever from the words alone; shown when they agree with the class the row carries.
      const v = explainReason(r.reason);
      const lever = v.class === r.class ? ` → _${LEVER_SHORT[v.lever]}_` : "";
      return `• ${num(r.count)}${t ? ` ${trendMark(t)}` : ""} · \`${r.class}\`${lever} · ${esc(truncate(r.reason, 400))}`;
    });
    blocks.push(section(`${causes.title}\n${rows.join("\n")}`));
  }
  if (s.topDomains.length) {
    const rows = s.topDomains.slice(0, o.top).map((d) => `${esc(d.domain)} ${num(d.count)}`);
    blocks.push(section(`*Top destinations* (recipients)\n${rows.join(" · ")}`));
  }
  const p = o.progress.get(s.relay);
  if (p) {
    const news = p.newCauses.length ? `\n🆕 *new cause*: ${esc(truncate(p.newCauses.join("; "), 600))}` : "";
    blocks.push({ type: "context", elements: [mrkdwn(`${esc(movementLine(p))}${news}`)] });
  }
  const ctx = [healthLine(s)];
  if (!s.listing.complete)
    ctx.push(
      `${partialNote(s)}; ${s.listing.countsExact ? "counts from the queue directories" : "counts are lower bounds"}${listingState(s) === "running" ? "; the complete card follows" : ""}`,
    );
  if (s.probeErrors.length)
    ctx.push(`probe problems: ${s.probeErrors.map((e) => truncate(e.message, 200)).join("; ")}`);
  blocks.push({ type: "context", elements: ctx.filter(Boolean).map((t) => mrkdwn(esc(t))) });
  return blocks;
}

/** Relays that did not fit, one short line each, packed into as few sections as the limits allow. */
function overflowSections(snaps: RelaySnapshot[], room: number): Block[] {
  const lines = snaps.map((s) =>
    s.ok
      ? `• ${esc(s.relay)}: ${masterDown(s) ? "🔴 Postfix not running, " : ""}${num(s.queues.deferred)} deferred, ${num(s.queues.hold)} hold, ${num(s.messages)} total`
      : `• ${esc(s.relay)}: 🔴 not answering`,
  );
  const out: Block[] = [];
  let current = `*${snaps.length} more relays* (ask \`/mailq status <relay>\` for one)`;
  for (const line of lines) {
    if (current.length + line.length + 1 > SLACK_LIMITS.sectionText) {
      out.push(section(current));
      current = line;
    } else current += `\n${line}`;
  }
  out.push(section(current));
  return out.slice(0, Math.max(1, room));
}

/** Healthy relays in one line: their names, nothing else to read. */
function healthySection(snaps: RelaySnapshot[]): Block {
  const names = snaps.map((s) => esc(s.relay)).join(", ");
  return section(
    `🟢 *${num(snaps.length)} healthy relay${snaps.length === 1 ? "" : "s"}* (nothing waiting): ${names}`,
  );
}

/**
 * One card for every relay asked about; stays within Slack's limits whatever the queue or relay
 * count. Several relays: the fleet's totals first, then the relays worst first (failing, then
 * the most deferred and oldest), and the healthy ones folded into one line at the end.
 */
export function statusCard(snapshots: RelaySnapshot[], opts: StatusCardOptions): Card {
  // `progress: undefined` (a partial first answer has none yet) must not hide the default.
  const o = {
    ...opts,
    top: opts.top ?? 5,
    progress: opts.progress ?? new Map<string, Movement>(),
    warnings: opts.warnings ?? new Map<string, string>(),
  };
  const fleet = snapshots.length > 1;
  const ordered = fleet ? worstFirst(snapshots) : snapshots;
  // A relay on a blocklist is never folded away as healthy: its warning must show.
  const isHealthy = (s: RelaySnapshot) => relayState(s) === "healthy" && !o.warnings.has(s.relay);
  const healthy = fleet ? ordered.filter(isHealthy) : [];
  const shown = fleet ? ordered.filter((s) => !isHealthy(s)) : ordered;
  const [first = "", ...rest] = fleet ? fleetTotals(snapshots, o.nowMs).split("\n") : [];
  const blocks: Block[] = fleet
    ? [section([`*${esc(first)}*`, ...rest.map(esc)].join("\n")), { type: "divider" }]
    : [];
  // Room kept at the end: the overflow sections, the healthy line and a divider.
  const reserve = 4 + (healthy.length ? 1 : 0);
  const overflow: RelaySnapshot[] = [];
  let relaysShown = 0;
  for (const s of shown) {
    const rb = relayBlocks(s, o);
    if (overflow.length || blocks.length + rb.length + reserve > SLACK_LIMITS.blocks) {
      overflow.push(s);
      continue;
    }
    if (relaysShown++) blocks.push({ type: "divider" });
    blocks.push(...rb);
  }
  if (overflow.length)
    blocks.push(
      ...overflowSections(overflow, SLACK_LIMITS.blocks - blocks.length - (healthy.length ? 1 : 0)),
    );
  if (healthy.length) blocks.push(healthySection(healthy));
  const headlines = shown.map((s) => [headline(s), o.warnings.get(s.relay)].filter(Boolean).join(" · ⛔ "));
  if (healthy.length) headlines.push(`${healthy.length} healthy: ${healthy.map((s) => s.relay).join(", ")}`);
  const text = [...(fleet ? [fleetTotals(snapshots, o.nowMs)] : []), ...headlines].join("\n");
  return { text: truncate(text, 3000), blocks };
}
