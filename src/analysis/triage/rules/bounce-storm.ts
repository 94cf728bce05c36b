import type { LogFacts } from "../../log-facts.js";
import type { TriageFacts } from "../facts.js";
import { LEVERS } from "../levers.js";
import type { Finding } from "../types.js";

/** Bounces within the last window of the log that make a storm, and how far above baseline. */
const STORM_WINDOW_MS = 10 * 60_000;
const STORM_MIN = 20;
const STORM_FACTOR = 3;

interface BounceRates {
  recent: number;
  recentMinutes: number;
  before: number;
  beforeMinutes: number;
}

export function bounceRates(log: LogFacts | null): BounceRates | null {
  if (!log || log.firstMs === null || log.lastMs === null) return null;
  const cut = log.lastMs - STORM_WINDOW_MS;
  let recent = 0;
  let before = 0;
  for (const [minute, n] of log.bounces.perMinute)
    if (minute + 60_000 > cut) recent += n;
    else before += n;
  const recentMinutes = Math.max(1, Math.min(STORM_WINDOW_MS, log.lastMs - log.firstMs) / 60_000);
  const beforeMinutes = Math.max(0, (cut - log.firstMs) / 60_000);
  return { recent, recentMinutes, before, beforeMinutes };
}

const perMin = (n: number, minutes: number) => `${(n / minutes).toFixed(1)}/min`;

/** Bounces in the last minutes of the log well above the rate before: find the source first. */
export function bounceStormFinding(log: LogFacts | null): Finding | null {
  const r = bounceRates(log);
  const b = log?.bounces;
  if (!r || !b || r.recent < STORM_MIN) return null;
  const baseline = r.beforeMinutes >= 1 ? r.before / r.beforeMinutes : null;
  const rate = r.recent / r.recentMinutes;
  if (baseline !== null && rate < STORM_FACTOR * baseline) return null;
  const forged =
    b.notificationsFailed > 0
      ? `${b.notificationsFailed} of the ${b.notifications} non-delivery notifications the relay sent could not be delivered themselves: their senders do not exist (forged senders, backscatter)`
      : `${b.notifications} non-delivery notification(s) sent, none undeliverable: the senders look real`;
  return {
    class: "bounce-storm",
    share: 0,
    scope: "relay",
    title: `A bounce storm: ${r.recent} bounces in the last ${Math.round(r.recentMinutes)} min of the log (${perMin(r.recent, r.recentMinutes)})`,
    evidence: [
      baseline === null
        ? `${r.recent} bounced in ${Math.round(r.recentMinutes)} min; the log holds no earlier window to compare`
        : `${perMin(r.recent, r.recentMinutes)} now against a baseline of ${baseline.toFixed(1)}/min over the ${Math.round(r.beforeMinutes)} min before`,
      ...b.byCause.slice(0, 3).flatMap((c) => [`${c.count}× ${c.cause}`, c.sample]),
      forged,
    ],
    recommendation: LEVERS["bounce-storm"],
    destinations: [],
  };
}

export const bounceStorm = (f: TriageFacts): Finding[] => {
  const storm = bounceStormFinding(f.log);
  return storm ? [storm] : [];
};
