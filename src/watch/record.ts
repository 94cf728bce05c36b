import { incidentStart, type Progress, progress } from "../analysis/delta.js";
import type { RelaySnapshot } from "../analysis/snapshot.js";
import type { Store } from "../store/store.js";

/** How far back an incident's first snapshot is looked for. */
const HISTORY_MS = 7 * 86_400_000;

/**
 * Stores each complete snapshot and says how it moved against the relay's previous one and
 * the incident's first. Partial or failed snapshots are not stored (they would fake a drain).
 */
export async function recordSnapshots(
  store: Store,
  snaps: RelaySnapshot[],
  nowMs: number,
): Promise<Map<string, Progress>> {
  const out = new Map<string, Progress>();
  for (const s of snaps) {
    if (!s.ok || !s.listing.complete) continue;
    const history = (await store.snapshots.since(s.relay, nowMs - HISTORY_MS)).map((h) => h.snapshot);
    const first = incidentStart([...history, s]);
    out.set(s.relay, progress(s, history.at(-1), first, nowMs));
    await store.snapshots.save(s, Date.parse(s.takenAt));
  }
  return out;
}
