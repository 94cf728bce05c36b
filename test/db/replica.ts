/**
 * One bot replica's schedule loop, reduced to what the store must guarantee: hold the
 * "watch-scheduler" lease, and while holding it post each due update of one watch exactly once
 * (claimUpdate, then a compare-and-set on the watch). Prints one JSON line per event.
 * Env: MAILQ_DATABASE_URL, WATCH_ID, INTERVAL_MS, TTL_MS, EVERY_MS, IGNORE_LEASE=1 (act without
 * the lease: the claims alone must still prevent double posts).
 */
import { hostname } from "node:os";
import { startLeadership } from "../../src/store/leader.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";

const env = process.env;
const store = await openPostgresStore(env.MAILQ_DATABASE_URL as string, { max: 3 });
const watchId = env.WATCH_ID as string;
const intervalMs = Number(env.INTERVAL_MS);
const say = (o: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ ...o, pid: process.pid, at: Date.now() })}\n`);

const leadership = startLeadership({
  leases: store.leases,
  name: `watch-scheduler-${watchId}`,
  holder: `${hostname()}:${process.pid}`,
  ttlMs: Number(env.TTL_MS),
  everyMs: Number(env.EVERY_MS),
  onChange: (leading) => say({ event: "leader", leading }),
  onError: (e) => say({ event: "error", message: String(e) }),
});
say({ event: "started" });

// When this replica last looked at the watch and found nothing due: a post's lateness is the
// product's fault only if an earlier look already found it due.
let lastLookAt = 0;

async function tick(): Promise<void> {
  if (env.IGNORE_LEASE !== "1" && !leadership.isLeader()) return;
  const w = await store.watches.get(watchId);
  const now = Date.now();
  if (w?.status !== "active" || now < w.nextDueMs) {
    lastLookAt = now;
    return;
  }
  const seq = w.updates + 1;
  const claimed = await store.watches.claimUpdate(watchId, seq, w.nextDueMs, now);
  if (claimed) {
    say({ event: "post", seq, dueMs: w.nextDueMs, lookAt: now, previousLookAt: lastLookAt });
    await store.watches.recordPosted(watchId, seq, `ts-${seq}`);
  }
  // Whoever claimed it, the watch moves on; losing this compare-and-set means another did it.
  await store.watches.update(watchId, w.version, { updates: seq, nextDueMs: w.nextDueMs + intervalMs });
}

const loop = setInterval(() => {
  tick().catch((e) => say({ event: "error", message: String(e) }));
}, 25);
process.once("SIGTERM", async () => {
  clearInterval(loop);
  await leadership.stop();
  await store.close();
  process.exit(0);
});
