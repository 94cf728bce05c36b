import { describe, expect, it } from "vitest";
import type { RelayConfig } from "../../src/config.js";
import { collectAllProgressive, RunnerPool } from "../../src/relay/collect.js";
import type { CommandRunner, RunOptions, RunResult } from "../../src/relay/runner.js";
import { closedRelaysConfig } from "../helpers/config.js";

/** Counts what the pool opens and how many sessions run at once; every command answers after a tick. */
function countingConnect() {
  const seen = {
    open: 0,
    maxOpen: 0,
    sessions: 0,
    maxSessions: 0,
    relaysAtOnce: new Set<string>(),
    maxRelays: 0,
  };
  const active = new Map<string, number>();
  const connect = async (relay: RelayConfig): Promise<CommandRunner> => {
    seen.open++;
    seen.maxOpen = Math.max(seen.maxOpen, seen.open);
    let closed = false;
    return {
      relay: relay.name,
      async run(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
        seen.sessions++;
        seen.maxSessions = Math.max(seen.maxSessions, seen.sessions);
        active.set(relay.name, (active.get(relay.name) ?? 0) + 1);
        seen.maxRelays = Math.max(seen.maxRelays, active.size);
        await new Promise((r) => setTimeout(r, 5));
        if (argv.includes("postqueue")) opts.onStdout?.(Buffer.from(""));
        const n = (active.get(relay.name) ?? 1) - 1;
        if (n === 0) active.delete(relay.name);
        else active.set(relay.name, n);
        seen.sessions--;
        const stdout = argv.includes("postconf") ? "queue_directory = /q\nmaillog_file = /l\n" : "";
        return { code: 0, stdout, stderr: "", timedOut: false };
      },
      async close() {
        if (!closed) seen.open--;
        closed = true;
      },
    };
  };
  return { seen, connect };
}

/** Twelve parsed SSH relays (on closed ports): the pool's injected connect stands in for SSH. */
const relays = closedRelaysConfig(Array.from({ length: 12 }, (_, i) => `relay-${i}`)).relays;
const opts = {
  timeoutMs: 5000,
  logLines: 100,
  thresholds: { diskPercent: 90, inodePercent: 90 },
  nowMs: Date.now,
};

describe("the connection pool's bound", () => {
  it("12 relays through a pool of 3: never more than 3 connections open nor 3 relays probed at once, and every relay answers", async () => {
    const { seen, connect } = countingConnect();
    const pool = new RunnerPool({}, false, { maxConnections: 3, connect });
    const { first, full } = await collectAllProgressive(relays, pool, { ...opts, firstAnswerMs: undefined });
    expect(full).toBeNull();
    expect(first.map((s) => s.relay)).toEqual(relays.map((r) => r.name));
    expect(first.every((s) => s.ok && s.listing.complete)).toBe(true);
    expect(seen.maxOpen).toBe(3);
    expect(seen.maxRelays).toBe(3);
    await pool.closeAll();
    expect(seen.open).toBe(0);
  });

  it("reuses an open connection for the same relay instead of opening another", async () => {
    const { seen, connect } = countingConnect();
    const pool = new RunnerPool({}, false, { maxConnections: 3, connect });
    const one = relays.slice(0, 1);
    await collectAllProgressive(one, pool, opts);
    await collectAllProgressive(one, pool, opts);
    expect(seen.maxOpen).toBe(1);
    await pool.closeAll();
  });

  it("forgets a connection the moment it drops: the next lease opens a new one", async () => {
    let opened = 0;
    const drops: (() => void)[] = [];
    const connect = async (relay: RelayConfig): Promise<CommandRunner> => {
      opened++;
      return {
        relay: relay.name,
        run: async () => ({ code: 0, stdout: "", stderr: "", timedOut: false }),
        close: async () => {},
        onClosed: (listener) => drops.push(listener),
      };
    };
    const pool = new RunnerPool({}, false, { maxConnections: 2, connect });
    const relay = relays[0] as RelayConfig;
    const first = await pool.lease(relay, 1000);
    first.release();
    (await pool.lease(relay, 1000)).release();
    expect(opened).toBe(1);
    for (const drop of drops.splice(0)) drop();
    (await pool.lease(relay, 1000)).release();
    expect(opened).toBe(2);
    await pool.closeAll();
  });

  it("a lease given back twice counts once: a connection still lent is never closed to make room", async () => {
    const closed: string[] = [];
    const connect = async (relay: RelayConfig): Promise<CommandRunner> => ({
      relay: relay.name,
      run: async () => ({ code: 0, stdout: "", stderr: "", timedOut: false }),
      close: async () => {
        closed.push(relay.name);
      },
    });
    const pool = new RunnerPool({}, false, { maxConnections: 2, connect });
    const [a, b, c] = relays as [RelayConfig, RelayConfig, RelayConfig];
    const a1 = await pool.lease(a, 1000);
    const a2 = await pool.lease(a, 1000);
    a1.release();
    a1.release();
    (await pool.lease(c, 1000)).release();
    // Both connections are open and the bound is 2: b needs room, and only c is idle.
    (await pool.lease(b, 1000)).release();
    expect(closed).toEqual([c.name]);
    a2.release();
    await pool.closeAll();
  });

  it("probes.maxConnections defaults to 16 and refuses bad values clearly", () => {
    expect(closedRelaysConfig(["r"], {}).probes.maxConnections).toBe(16);
    expect(closedRelaysConfig(["r"], { probes: { maxConnections: 50 } }).probes.maxConnections).toBe(50);
    expect(() => closedRelaysConfig(["r"], { probes: { maxConnections: 0 } })).toThrow(
      /probes\.maxConnections must be at least 1/,
    );
    expect(() => closedRelaysConfig(["r"], { probes: { maxConnections: 2.5 } })).toThrow(
      /probes\.maxConnections must be a whole number/,
    );
    expect(() => closedRelaysConfig(["r"], { probes: { maxConnections: "many" } })).toThrow(
      /probes\.maxConnections must be a whole number/,
    );
    expect(() => closedRelaysConfig(["r"], { probes: { maxConnections: 10_000 } })).toThrow(
      /probes\.maxConnections is at most 256/,
    );
  });
});
