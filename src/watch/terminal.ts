import type { RelaySnapshot } from "../analysis/snapshot.js";
import { watchUpdateText } from "../cards/watch-update.js";
import type { Config } from "../config.js";
import type { Store } from "../store/store.js";
import type { Sleep } from "../util/abortable-sleep.js";
import { nextDue } from "./rules.js";
import { watchUpdate } from "./update.js";

export type TerminalWatchEnd = "stopped" | "drained" | "expired";

export interface TerminalWatchDeps {
  store: Store;
  /** Runs the read-only probes of the watched relays. */
  collect: () => Promise<RelaySnapshot[]>;
  watch: Pick<Config["watch"], "drainedBelow" | "maxDuration">;
  everyMs: number;
  nowMs: () => number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep: Sleep;
  signal: AbortSignal;
  write: (s: string) => void;
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
  let streak = 0;
  for (let seq = 0; ; seq++) {
    if (d.signal.aborted) return "stopped";
    const now = d.nowMs();
    const snaps = await d.collect();
    const step = await watchUpdate(
      d.store,
      snaps,
      { seq, startedAtMs, lastUpdateAtMs, nowMs: now, streak },
      d.watch,
    );
    lastUpdateAtMs = now;
    streak = step.streak;
    const { relays, ending } = step;
    d.write(`${watchUpdateText({ seq, nowMs: now, everyMs: d.everyMs, startedAtMs }, relays)}\n`);
    if (ending) {
      d.write(`-- the watch ended: ${ending.reason}\n`);
      return ending.status;
    }
    dueMs = nextDue(dueMs, d.everyMs, d.nowMs());
    await d.sleep(dueMs - d.nowMs(), d.signal);
  }
}
