import { masterDown, type RelaySnapshot } from "../analysis/snapshot.js";
import type { Config } from "../config.js";
import { formatDuration } from "../util/duration.js";

type WatchRules = Pick<Config["watch"], "drainedBelow" | "maxDuration">;

/** Updates in a row with every relay answering and the queue under watch.drainedBelow. */
export function drainedStreak(snaps: RelaySnapshot[], before: number, rules: WatchRules): number {
  const depth = snaps.reduce((n, s) => n + s.messages, 0);
  // Only a whole listing on a running Postfix can show a drain: directory counts that could not be
  // taken read as zero, and a queue that is small while master is down is stuck, not drained.
  const whole = (s: RelaySnapshot) => s.ok && s.listing.complete && !masterDown(s);
  return snaps.every(whole) && depth < rules.drainedBelow ? before + 1 : 0;
}

/**
 * Whether a watch ends after this update, the same for the chat and the terminal: drained for
 * two updates, or at its maximum duration.
 */
export function watchEnding(
  o: { drainedStreak: number; startedAtMs: number; nowMs: number },
  rules: WatchRules,
): { status: "drained" | "expired"; reason: string } | undefined {
  if (o.drainedStreak >= 2)
    return { status: "drained", reason: `the queue stayed under ${rules.drainedBelow} for two updates` };
  if (o.nowMs - o.startedAtMs >= rules.maxDuration)
    return { status: "expired", reason: `it ran for its maximum of ${formatDuration(rules.maxDuration)}` };
  return undefined;
}

/** The next due time keeps the cadence; after a long outage it resumes from now rather than burst. */
export function nextDue(dueMs: number, everyMs: number, nowMs: number): number {
  const next = dueMs + everyMs;
  return next <= nowMs ? nowMs + everyMs : next;
}
