import type { RelaySnapshot } from "../analysis/snapshot.js";
import { progressText } from "../cards/progress.js";
import type { Config } from "../config.js";
import type { Store } from "../store/store.js";
import { formatDuration } from "../util/duration.js";
import { followRelays } from "./record.js";

export type TerminalWatchEnd = "stopped" | "drained" | "expired";

export interface TerminalWatchDeps {
  store: Store;
  /** Runs the read-only probes of the watched relays. */
  collect: () => Promise<RelaySnapshot[]>;
  watch: Pick<Config["watch"], "drainedBelow" | "maxDuration">;
  everyMs: number;
  nowMs: () => number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  signal: AbortSignal;
  write: (s: string) => void;
}

/** A sleep that Ctrl-C cuts short. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * `mailq-bot watch`: the Slack watch's updates, printed. Update 0 is the start; then one every
 * `everyMs` on the start's cadence (a slow probe does not push the schedule back), until Ctrl-C,
 * until the queue stayed under `watch.drainedBelow` for two updates, or after `watch.maxDuration`.
 */
export async function watchInTerminal(d: TerminalWatchDeps): Promise<TerminalWatchEnd> {
  const startedAtMs = d.nowMs();
  let lastUpdateAtMs = startedAtMs;
  let dueMs = startedAtMs;
  let drainedStreak = 0;
  for (let seq = 0; ; seq++) {
    if (d.signal.aborted) return "stopped";
    const now = d.nowMs();
    const snaps = await d.collect();
    const relays = await followRelays(d.store, snaps, { startedAtMs, lastUpdateAtMs, nowMs: now });
    lastUpdateAtMs = now;
    d.write(`${progressText({ seq, nowMs: now, everyMs: d.everyMs, startedAtMs }, relays)}\n`);
    if (seq > 0) {
      const depth = snaps.reduce((n, s) => n + s.messages, 0);
      drainedStreak = snaps.every((s) => s.ok) && depth < d.watch.drainedBelow ? drainedStreak + 1 : 0;
      if (drainedStreak >= 2) {
        d.write(`-- the watch ended: the queue stayed under ${d.watch.drainedBelow} for two updates\n`);
        return "drained";
      }
    }
    if (now - startedAtMs >= d.watch.maxDuration) {
      d.write(`-- the watch ended: it ran for its maximum of ${formatDuration(d.watch.maxDuration)}\n`);
      return "expired";
    }
    dueMs += d.everyMs;
    if (dueMs <= d.nowMs()) dueMs = d.nowMs() + d.everyMs;
    await d.sleep(dueMs - d.nowMs(), d.signal);
  }
}
