import { describe, expect, it } from "vitest";
import { startLeadership } from "../../src/store/leader.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { LeaseRepo } from "../../src/store/store.js";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(f: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error("timed out");
    await wait(5);
  }
}

describe("leadership over a lease", () => {
  it("one of two leads; stop() hands over at once without waiting for expiry", async () => {
    const store = openSqliteStore(":memory:");
    const changes: string[] = [];
    const mk = (holder: string) =>
      startLeadership({
        leases: store.leases,
        name: "sched",
        holder,
        ttlMs: 60_000,
        everyMs: 10,
        onChange: (l) => changes.push(`${holder}:${l}`),
      });
    const a = mk("A");
    await until(() => a.isLeader());
    const b = mk("B");
    await wait(50);
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    await a.stop();
    await until(() => b.isLeader(), 500); // far less than the 60 s TTL
    expect(changes).toEqual(["A:true", "A:false", "B:true"]);
    await b.stop();
    expect((await store.leases.get("sched")) ?? null).toBeNull();
    await store.close();
  });

  it("a leader that cannot reach the store stops trusting the lease at its expiry, on its own clock", async () => {
    const store = openSqliteStore(":memory:");
    let now = 1_000_000;
    let down = false;
    const leases: LeaseRepo = {
      acquire: (...a) => (down ? Promise.reject(new Error("store down")) : store.leases.acquire(...a)),
      renew: (...a) => (down ? Promise.reject(new Error("store down")) : store.leases.renew(...a)),
      release: (...a) => store.leases.release(...a),
      get: (...a) => store.leases.get(...a),
    };
    const errors: unknown[] = [];
    const l = startLeadership({
      leases,
      name: "sched",
      holder: "A",
      ttlMs: 1_000,
      everyMs: 5,
      nowMs: () => now,
      onError: (e) => errors.push(e),
    });
    await until(() => l.isLeader());
    down = true;
    await until(() => errors.length > 0);
    now += 999;
    expect(l.isLeader()).toBe(true);
    now += 1;
    expect(l.isLeader()).toBe(false);
    await l.stop();
    await store.close();
  });
});
