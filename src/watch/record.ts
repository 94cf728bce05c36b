import { incidentStart, type Movement, movement } from "../analysis/delta.js";
import type { RelaySnapshot } from "../analysis/snapshot.js";
import type { DepthPoint } from "../cards/chart.js";
import type { RelayUpdate } from "../cards/watch-update.js";
import type { Store } from "../store/store.js";

/** How far back an incident's first snapshot is looked for. */
const HISTORY_MS = 7 * 86_400_000;

/** Only complete, answered snapshots are stored and compared: a partial one would fake a drain. */
const storable = (s: RelaySnapshot) => s.ok && s.listing.complete;

/**
 * Stores each complete snapshot and says how it moved against the relay's previous one and
 * the incident's first. Partial or failed snapshots are not stored (they would fake a drain).
 */
export async function recordSnapshots(
  store: Store,
  snaps: RelaySnapshot[],
  nowMs: number,
): Promise<Map<string, Movement>> {
  const out = new Map<string, Movement>();
  for (const s of snaps) {
    if (!storable(s)) continue;
    const history = (await store.snapshots.since(s.relay, nowMs - HISTORY_MS)).map((h) => h.snapshot);
    const first = incidentStart([...history, s]);
    out.set(s.relay, movement(s, history.at(-1), first, nowMs));
    await store.snapshots.save(s, Date.parse(s.takenAt));
  }
  return out;
}

const depthPoint = (s: RelaySnapshot): DepthPoint => ({ atMs: Date.parse(s.takenAt), queues: s.queues });

/**
 * A watch's view of each relay: stores the new snapshots, then compares each with the one taken
 * at the watch's last update (not merely the newest stored: a `/mailq status` in between would
 * make a 15-minute drain rate out of two minutes) and with the incident's first.
 *
 * `startedAtMs` is when the watch began (its first snapshot is taken then); `lastUpdateAtMs`
 * when the previous update was claimed (its snapshot is the first taken at or after that).
 */
export async function followRelays(
  store: Store,
  snaps: RelaySnapshot[],
  o: { startedAtMs: number; lastUpdateAtMs: number; nowMs: number },
): Promise<RelayUpdate[]> {
  const out: RelayUpdate[] = [];
  for (const s of snaps) {
    const history = (await store.snapshots.since(s.relay, o.nowMs - HISTORY_MS)).map((h) => h.snapshot);
    const during = history.filter((h) => Date.parse(h.takenAt) >= o.startedAtMs);
    const atStart = during[0];
    const atLast = during.find((h) => Date.parse(h.takenAt) >= o.lastUpdateAtMs) ?? during.at(-1);
    if (!storable(s)) {
      out.push({
        snapshot: s,
        progress: undefined,
        atStart: atStart?.messages ?? null,
        atLast: atLast?.messages ?? null,
        series: during.map(depthPoint),
      });
      continue;
    }
    await store.snapshots.save(s, Date.parse(s.takenAt));
    out.push({
      snapshot: s,
      // At the start there is no update yet: compare with whatever was stored before.
      progress: movement(s, atLast ?? history.at(-1), incidentStart([...history, s]), o.nowMs),
      atStart: atStart?.messages ?? null,
      atLast: atLast?.messages ?? null,
      series: [...during, s].map(depthPoint),
    });
  }
  return out;
}
