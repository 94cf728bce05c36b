import { shortCause } from "../analysis/reasons.js";
import { masterDown, type RelaySnapshot } from "../analysis/snapshot.js";
import { age, bytes, num } from "./format.js";

export type RelayState = "failing" | "attention" | "healthy";
export const STATE_ICON: Record<RelayState, string> = { failing: "🔴", attention: "🟠", healthy: "🟢" };

/**
 * Failing: it did not answer, or its Postfix is not running (nothing is delivered). Attention: mail waits (deferred, active, incoming, maildrop), the
 * spool or master/qmgr is in trouble, or the answer is partial (nothing is known to be fine).
 * Healthy: none of these; mail on hold is parked on purpose and does not count.
 */
export function relayState(s: RelaySnapshot): RelayState {
  if (!s.ok || masterDown(s)) return "failing";
  const q = s.queues;
  const waiting = q.deferred + q.active + q.incoming + q.maildrop > 0;
  const service = s.service && (!s.service.masterRunning || !s.service.qmgrRunning);
  return waiting || !s.listing.complete || s.disk?.warning || service ? "attention" : "healthy";
}

const RANK: Record<RelayState, number> = { failing: 0, attention: 1, healthy: 2 };
const oldestMs = (s: RelaySnapshot) =>
  s.oldestDeferredArrival ? Date.parse(s.oldestDeferredArrival) : Number.POSITIVE_INFINITY;

/** Worst first: failing, then the most deferred mail, then the oldest, then by name. */
export function worstFirst(snaps: readonly RelaySnapshot[]): RelaySnapshot[] {
  return [...snaps].sort(
    (a, b) =>
      RANK[relayState(a)] - RANK[relayState(b)] ||
      b.queues.deferred - a.queues.deferred ||
      oldestMs(a) - oldestMs(b) ||
      a.relay.localeCompare(b.relay),
  );
}

/** The fleet in two lines: how many relays in each state, the totals, the oldest and the main cause. */
export function fleetTotals(snaps: readonly RelaySnapshot[], nowMs: number): string {
  const by = (st: RelayState) => snaps.filter((s) => relayState(s) === st).length;
  const ok = snaps.filter((s) => s.ok);
  const sum = (f: (s: RelaySnapshot) => number) => ok.reduce((n, s) => n + f(s), 0);
  const states = [
    by("failing") ? `🔴 ${num(by("failing"))} not answering` : "",
    by("attention") ? `🟠 ${num(by("attention"))} with mail waiting or trouble` : "",
    by("healthy") ? `🟢 ${num(by("healthy"))} healthy` : "",
  ].filter(Boolean);
  const totals = [
    `${num(sum((s) => s.queues.deferred))} deferred`,
    `${num(sum((s) => s.queues.active))} active`,
    `${num(sum((s) => s.queues.hold))} on hold`,
    `${num(sum((s) => s.messages))} messages (${bytes(sum((s) => s.bytes))})`,
  ];
  const oldest = ok.filter((s) => s.oldestDeferredArrival).sort((a, b) => oldestMs(a) - oldestMs(b))[0];
  if (oldest) totals.push(`oldest deferred ${age(oldest.oldestDeferredArrival, nowMs)} (${oldest.relay})`);
  if (ok.some((s) => !s.listing.complete))
    totals.push("⏳ some answers are partial: these totals are lower bounds");
  // The causes summed over each relay's top rows: a floor, but it names what hurts most widely.
  const causes = new Map<string, { count: number; relays: number }>();
  for (const s of ok)
    for (const r of s.topReasons) {
      const c = causes.get(r.reason) ?? { count: 0, relays: 0 };
      causes.set(r.reason, { count: c.count + r.count, relays: c.relays + 1 });
    }
  const top = [...causes].sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))[0];
  const cause = top
    ? `\ntop cause across the fleet: ${shortCause(top[0])} (${num(top[1].count)} on ${num(top[1].relays)} relay${top[1].relays === 1 ? "" : "s"})`
    : "";
  return `Fleet of ${num(snaps.length)} relays: ${states.join(" · ")}\n${totals.join(" · ")}${cause}`;
}
