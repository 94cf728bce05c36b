import { tmpdir } from "node:os";
import { describe, expect, inject, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { collectOptions, collectRelayProgressive, RunnerPool } from "../../src/relay/collect.js";
import type { CommandRunner } from "../../src/relay/runner.js";
import { asGate, labRelayEntry } from "../helpers/lab-relay.js";
import type { LabRelay } from "../lab/lab.js";

const lab = inject("lab");
const relayA = lab.relays.find((r) => r.name === "relay-a") as LabRelay;

/** A pool whose leased runners record every argv a status runs. */
class Recording extends RunnerPool {
  readonly ran: string[] = [];
  protected override async wrap(r: Promise<CommandRunner>): Promise<CommandRunner> {
    const inner = await r;
    const ran = this.ran;
    return {
      relay: inner.relay,
      run(argv, opts) {
        ran.push(argv.join(" "));
        return inner.run(argv, opts);
      },
      close: () => inner.close(),
    };
  }
}

describe("the relay's I/O stall on a kernel with PSI (the lab's)", () => {
  it("a real status, through the gate as deployed, reads /proc/pressure/io and runs no vmstat", async () => {
    const config = parseConfig({ relays: [labRelayEntry(relayA, asGate(relayA))] }, "test", tmpdir());
    const relay = config.relays[0];
    if (!relay) throw new Error("no relay in the configuration");
    const pool = new Recording(process.env, false);
    try {
      const p = await collectRelayProgressive(relay, pool, collectOptions(config, Date.now));
      const s = (await p.full) ?? p.first;
      expect(s.probeErrors).toEqual([]);
      expect(s.load?.ioPressurePercent).toBeTypeOf("number");
      expect(s.load?.ioPressurePercent).toBeGreaterThanOrEqual(0);
      expect(s.load?.ioPressurePercent).toBeLessThanOrEqual(100);
      expect(s.load?.ioPressureFullPercent).toBeTypeOf("number");
      expect(s.load?.iowaitPercent).toBeNull();
      // Also the first answer, when it was partial: it carries the same system probes.
      expect(p.first.load?.ioPressurePercent).toBe(s.load?.ioPressurePercent);
    } finally {
      await pool.closeAll();
    }
    const psi = pool.ran.filter((c) => c.endsWith("cat /proc/pressure/io"));
    expect(psi).toHaveLength(1);
    expect(pool.ran.filter((c) => /\bvmstat\b/.test(c))).toEqual([]);
  });
});
