import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { watchUpdate } from "../../src/watch/update.js";
import { MIN, postfixDown, snapOf, T0 } from "./helpers.js";

const RULES = { drainedBelow: 10, maxDuration: 60 * MIN };

describe("watchUpdate: one update, the same for the chat and the terminal", () => {
  it("does not count the start towards the drained streak, then ends after two drained updates", async () => {
    const store = openSqliteStore(":memory:");
    const at = (m: number) => T0 + m * MIN;
    const o = (seq: number, streak: number) => ({
      seq,
      startedAtMs: T0,
      lastUpdateAtMs: at(Math.max(0, seq - 1) * 15),
      nowMs: at(seq * 15),
      streak,
    });
    const start = await watchUpdate(store, [snapOf("relay-a", at(0), { deferred: 2 })], o(0, 0), RULES);
    expect(start.streak).toBe(0);
    expect(start.ending).toBeUndefined();
    const first = await watchUpdate(store, [snapOf("relay-a", at(15), { deferred: 3 })], o(1, 0), RULES);
    expect(first.streak).toBe(1);
    expect(first.ending).toBeUndefined();
    expect(first.relays[0]?.atStart).toBe(2);
    const second = await watchUpdate(store, [snapOf("relay-a", at(30), { deferred: 1 })], o(2, 1), RULES);
    expect(second.streak).toBe(2);
    expect(second.ending?.status).toBe("drained");
  });

  it("restarts the streak when a relay does not answer, and expires at the maximum duration", async () => {
    const store = openSqliteStore(":memory:");
    const late = { seq: 4, startedAtMs: T0, lastUpdateAtMs: T0 + 45 * MIN, nowMs: T0 + 60 * MIN, streak: 1 };
    const r = await watchUpdate(store, [snapOf("relay-a", late.nowMs, "down")], late, RULES);
    expect(r.streak).toBe(0);
    expect(r.ending?.status).toBe("expired");
    expect(r.relays[0]?.progress).toBeUndefined();
  });

  it("never calls a queue drained while Postfix is down or the listing is incomplete", async () => {
    const store = openSqliteStore(":memory:");
    const o = { seq: 3, startedAtMs: T0, lastUpdateAtMs: T0 + 30 * MIN, nowMs: T0 + 45 * MIN, streak: 1 };
    const small = snapOf("relay-a", o.nowMs, { deferred: 2 });
    // Whole listing or not, a small queue behind a stopped master is stuck.
    const down = { ...postfixDown(small), complete: true, listing: small.listing };
    expect((await watchUpdate(store, [down], o, RULES)).streak).toBe(0);
    const cut = { ...small, complete: false, listing: { ...small.listing, complete: false } };
    expect((await watchUpdate(store, [cut], o, RULES)).streak).toBe(0);
    // The same small queue, whole and with Postfix up, does count.
    const r = await watchUpdate(store, [small], o, RULES);
    expect(r.streak).toBe(2);
    expect(r.ending?.status).toBe("drained");
  });
});
