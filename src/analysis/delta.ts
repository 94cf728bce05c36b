import { QUEUE_NAMES, type QueueName } from "../parsers/postqueue.js";
import type { QueueCounts, ReasonRow } from "./queue-summary.js";
import type { RelaySnapshot } from "./snapshot.js";

export type Trend = "up" | "down" | "same" | "new" | "gone";

export interface ReasonChange {
  reason: string;
  class: ReasonRow["class"];
  now: number;
  before: number;
  trend: Trend;
}

export interface Change {
  /** Minutes between the two snapshots. */
  minutes: number;
  messages: number;
  queues: QueueCounts;
}

export interface Movement {
  relay: string;
  sinceLast: Change | null;
  sinceStart: Change | null;
  /** ISO time of the incident's first snapshot. */
  startedAt: string | null;
  /** Messages leaving per minute since the last snapshot (negative: growing). */
  drainPerMinute: number | null;
  /** Minutes to empty at that rate; null when not draining. */
  minutesToEmpty: number | null;
  /** Minutes until the oldest deferred message reaches maximal_queue_lifetime and bounces. */
  minutesToFirstBounce: number | null;
  reasons: ReasonChange[];
  /** Causes in the top list now that were not there before. */
  newCauses: string[];
}

const minutesBetween = (a: RelaySnapshot, b: RelaySnapshot) =>
  (Date.parse(b.takenAt) - Date.parse(a.takenAt)) / 60_000;

function change(from: RelaySnapshot, to: RelaySnapshot): Change {
  const queues = {} as QueueCounts;
  for (const q of QUEUE_NAMES) queues[q as QueueName] = to.queues[q] - from.queues[q];
  return { minutes: minutesBetween(from, to), messages: to.messages - from.messages, queues };
}

function trend(now: number, before: number | undefined): Trend {
  if (before === undefined) return "new";
  if (now === before) return "same";
  return now > before ? "up" : "down";
}

/**
 * The first snapshot of the current incident. An incident is the latest unbroken run of stored
 * snapshots of a relay with mail in its queue: walking back from the newest, the earliest one
 * before a snapshot with an empty queue (or the oldest kept, 7 days back). Only complete,
 * answered snapshots are stored, so a relay that failed to answer neither starts nor ends one.
 * A watch also shows the depth at its own start, which may be later. `history` is oldest first.
 */
export function incidentStart(history: RelaySnapshot[]): RelaySnapshot | undefined {
  let start: RelaySnapshot | undefined;
  for (let i = history.length - 1; i >= 0; i--) {
    const s = history[i] as RelaySnapshot;
    if (!s.ok) continue;
    if (s.messages === 0) break;
    start = s;
  }
  return start;
}

/** How `now` moved against the previous snapshot and the incident's first. Pure. */
export function movement(
  now: RelaySnapshot,
  previous: RelaySnapshot | undefined,
  first: RelaySnapshot | undefined,
  nowMs: number,
): Movement {
  const prev = previous?.ok ? previous : undefined;
  const sinceLast = prev ? change(prev, now) : null;
  const sinceStart = first && first !== now ? change(first, now) : null;
  const drainPerMinute = sinceLast && sinceLast.minutes > 0 ? -sinceLast.messages / sinceLast.minutes : null;
  const minutesToEmpty = drainPerMinute !== null && drainPerMinute > 0 ? now.messages / drainPerMinute : null;
  const lifetime = now.postfix?.maximalQueueLifetimeS ?? null;
  const minutesToFirstBounce =
    lifetime !== null && now.oldestDeferredArrival
      ? Math.max(0, (Date.parse(now.oldestDeferredArrival) + lifetime * 1000 - nowMs) / 60_000)
      : null;
  const before = new Map((prev?.topReasons ?? []).map((r) => [r.reason, r.count]));
  const reasons: ReasonChange[] = now.topReasons.map((r) => ({
    reason: r.reason,
    class: r.class,
    now: r.count,
    before: before.get(r.reason) ?? 0,
    trend: prev ? trend(r.count, before.get(r.reason)) : "same",
  }));
  const nowSet = new Set(now.topReasons.map((r) => r.reason));
  for (const r of prev?.topReasons ?? [])
    if (!nowSet.has(r.reason))
      reasons.push({ reason: r.reason, class: r.class, now: 0, before: r.count, trend: "gone" });
  return {
    relay: now.relay,
    sinceLast,
    sinceStart,
    startedAt: first?.takenAt ?? null,
    drainPerMinute,
    minutesToEmpty,
    minutesToFirstBounce,
    reasons,
    newCauses: reasons.filter((r) => r.trend === "new").map((r) => r.reason),
  };
}

const MARK: Record<Trend, string> = { up: "↑", down: "↓", same: "→", new: "🆕", gone: "✓" };
export const trendMark = (t: Trend) => MARK[t];

/** ▁▂▃▄▅▆▇█ for a series; empty for none. */
export function sparkline(values: number[]): string {
  if (values.length === 0) return "";
  const bars = "▁▂▃▄▅▆▇█";
  // From zero, not from the minimum: 166 → 105 must not look drained.
  const max = Math.max(0, ...values);
  return values.map((v) => bars[max === 0 ? 0 : Math.round((Math.max(0, v) / max) * 7)]).join("");
}
