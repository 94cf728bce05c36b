/**
 * Closing the pool while an SSH connect is still under way (a relay that accepts TCP and never
 * speaks): the connect ends then, with a message that says why, not at its timeout; that is what
 * lets `serve` exit within its grace while a relay hangs.
 */
import { type AddressInfo, createServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseConfig, type RelayConfig, type SshRelayConfig } from "../../src/config.js";
import { RunnerPool } from "../../src/relay/pool.js";
import { labRelayEntry } from "../helpers/lab-relay.js";
import type { LabRelay } from "../lab/lab.js";

const lab = inject("lab");
const relayA = lab.relays.find((r) => r.name === "relay-a") as LabRelay;

const held = new Set<Socket>();
const silent = createServer((s) => held.add(s));
let mute: SshRelayConfig;

beforeAll(async () => {
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  const port = (silent.address() as AddressInfo).port;
  mute = parseConfig({ relays: [labRelayEntry(relayA, { name: "relay-mute", port })] }, "test", "/tmp")
    .relays[0] as SshRelayConfig;
});

afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise((r) => silent.close(r));
});

describe("RunnerPool.closeAll", () => {
  it("ends a connect under way at once, says the bot is stopping, and connects afresh afterwards", async () => {
    const timeoutMs = 10 * 60_000;
    const pool = new RunnerPool({}, false);
    const connecting = pool.lease(mute, timeoutMs);
    connecting.catch(() => {});
    while (held.size === 0) await new Promise((r) => setTimeout(r, 10));
    // Without the abort this waits out the ten-minute connect timeout (and the test's own limit fails it).
    await pool.closeAll();
    await expect(connecting).rejects.toThrow(
      /^relay-mute \(root@127\.0\.0\.1:\d+\): connect abandoned: mailq-bot is stopping$/,
    );

    // The pool still works after it closed: a new lease to a live relay gets a new connection.
    const live = parseConfig({ relays: [labRelayEntry(relayA)] }, "test", "/tmp").relays[0] as RelayConfig;
    const lease = await pool.lease(live, 20_000);
    expect((await lease.runner.run(["/bin/true"], { timeoutMs: 20_000 })).code).toBe(0);
    lease.release();
    await pool.closeAll();
  });

  it("ends a fleet's connects at once, twelve of them, without a listener-leak warning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    const pool = new RunnerPool({}, false);
    const before = held.size;
    try {
      const fleet = Array.from({ length: 12 }, (_, i) => ({ ...mute, name: `relay-mute-${i}` }));
      const connecting = fleet.map((r) => pool.lease(r, 10 * 60_000));
      for (const c of connecting) c.catch(() => {});
      while (held.size < before + 12) await new Promise((r) => setTimeout(r, 10));
      await pool.closeAll();
      const outcomes = await Promise.allSettled(connecting);
      const said = outcomes.map((o) => (o.status === "rejected" ? String(o.reason.message) : "connected"));
      expect(said).toEqual(
        fleet.map((r) => `${r.name} (root@127.0.0.1:${r.port}): connect abandoned: mailq-bot is stopping`),
      );
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
      expect(warnings).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
