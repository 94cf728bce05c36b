import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { watchInTerminal } from "../../src/watch/terminal.js";
import { clock, MIN, type Shape, snapOf, T0 } from "./helpers.js";

const WATCH = { interval: 15 * MIN, drainedBelow: 10, maxDuration: 24 * 60 * MIN };

/** Runs the terminal watch on an injected clock; the probes answer `shapeAt(minute)` and take `probeMs`. */
async function run(
  shapeAt: (minute: number) => Shape | "down",
  o: { stopAfter?: number; probeMs?: number; watch?: typeof WATCH } = {},
) {
  const c = clock();
  const ac = new AbortController();
  const out: string[] = [];
  const probedAt: number[] = [];
  const end = await watchInTerminal({
    store: openSqliteStore(":memory:"),
    collect: async () => {
      const at = c.now();
      probedAt.push(at);
      await c.sleep(o.probeMs ?? 0);
      return [snapOf("relay-a", at, shapeAt(Math.round((at - T0) / MIN)))];
    },
    watch: o.watch ?? WATCH,
    everyMs: 15 * MIN,
    nowMs: c.now,
    sleep: async (ms) => {
      await c.sleep(ms);
      if (o.stopAfter !== undefined && probedAt.length >= o.stopAfter) ac.abort();
    },
    signal: ac.signal,
    write: (s) => out.push(s),
  });
  return { end, out, probedAt: probedAt.map((t) => (t - T0) / MIN) };
}

describe("mailq-bot watch (injected clock)", () => {
  it("prints the start and an update every interval on the start's cadence, until stopped", async () => {
    const r = await run((m) => ({ deferred: 1000 - m * 10 }), { stopAfter: 3, probeMs: 40_000 });
    expect(r.end).toBe("stopped");
    // a 40 s probe does not push the schedule back
    expect(r.probedAt).toEqual([0, 15, 30]);
    expect(r.out.map((o) => o.split("\n")[0])).toEqual([
      "-- update 0 at 2026-01-03 10:00:00Z, 0s into the watch (every 15m; Ctrl-C stops)",
      "-- update 1 at 2026-01-03 10:15:00Z, 15m into the watch (every 15m; Ctrl-C stops)",
      "-- update 2 at 2026-01-03 10:30:00Z, 30m into the watch (every 15m; Ctrl-C stops)",
    ]);
    expect(r.out[0]).toContain("first snapshot of this relay");
    expect(r.out[2]).toContain("depth 700 now · 850 at the last update · 1,000 at the start   █▇▆");
    expect(r.out[2]).toContain("since last (15 minutes ago): total −150, deferred −150");
    expect(r.out[2]).toContain("draining 10.0/min · empty in ~1h 10m");
  });

  it("stops by itself once the queue stayed under watch.drainedBelow for two updates", async () => {
    const r = await run((m) => ({ deferred: m === 0 ? 400 : m === 15 ? 5 : m === 30 ? 40 : 2 }));
    expect(r.end).toBe("drained");
    // 5 (under), 40 (over: the streak starts again), 2, 2
    expect(r.probedAt).toEqual([0, 15, 30, 45, 60]);
    expect(r.out.at(-1)).toBe("-- the watch ended: the queue stayed under 10 for two updates\n");
  });

  it("stops after watch.maxDuration", async () => {
    const r = await run(() => ({ deferred: 500 }), { watch: { ...WATCH, maxDuration: 40 * MIN } });
    expect(r.end).toBe("expired");
    expect(r.probedAt).toEqual([0, 15, 30, 45]);
    expect(r.out.at(-1)).toBe("-- the watch ended: it ran for its maximum of 40m\n");
  });

  it("reports a relay that fails and goes on, measuring against the last good update", async () => {
    const r = await run((m) => (m === 15 ? "down" : { deferred: 600 - m * 10 }), { stopAfter: 3 });
    expect(r.out[1]).toContain("== relay-a: not answering · relay-a (root@127.0.0.1:22): cannot connect");
    expect(r.out[1]).toContain("the watch goes on; the next update tries again");
    expect(r.out[2]).toContain("depth 300 now · 600 at the last update · 600 at the start");
    expect(r.out[2]).toContain("since last (30 minutes ago): total −300");
  });
});
