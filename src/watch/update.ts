import type { RelaySnapshot } from "../analysis/snapshot.js";
import type { RelayUpdate } from "../cards/watch-update.js";
import type { Config } from "../config.js";
import type { Store } from "../store/store.js";
import { followRelays } from "./record.js";
import { drainedStreak, watchEnding } from "./rules.js";

export interface WatchUpdate {
  relays: RelayUpdate[];
  /** Updates in a row under watch.drainedBelow, this one included. */
  streak: number;
  ending: ReturnType<typeof watchEnding>;
}

/**
 * One watch update, the same for the chat's scheduler and the terminal: stores the new
 * snapshots, compares them with the watch's start and last update, and says whether the watch
 * ends here. Update 0 is the start and does not count towards the drained streak.
 */
export async function watchUpdate(
  store: Store,
  snaps: RelaySnapshot[],
  o: { seq: number; startedAtMs: number; lastUpdateAtMs: number; nowMs: number; streak: number },
  rules: Pick<Config["watch"], "drainedBelow" | "maxDuration">,
): Promise<WatchUpdate> {
  const relays = await followRelays(store, snaps, o);
  const streak = o.seq > 0 ? drainedStreak(snaps, o.streak, rules) : o.streak;
  const ending = watchEnding({ drainedStreak: streak, startedAtMs: o.startedAtMs, nowMs: o.nowMs }, rules);
  return { relays, streak, ending };
}
