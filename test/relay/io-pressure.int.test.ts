import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { statusText } from "../../src/cards/status-text.js";
import { parseConfig, type SshRelayConfig } from "../../src/config.js";
import { collectOptions, collectRelayProgressive, RunnerPool } from "../../src/relay/collect.js";
import { relayChecks } from "../../src/relay/doctor.js";
import type { CommandRunner } from "../../src/relay/runner.js";
import { asGate, labRelayEntry } from "../helpers/lab-relay.js";
import { type LabRelay, startRelay } from "../lab/lab.js";

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

/** One real status of a lab relay through its gate, as deployed: the answers and every argv it ran. */
async function statusThroughGate(target: LabRelay) {
  const config = parseConfig({ relays: [labRelayEntry(target, asGate(target))] }, "test", tmpdir());
  const relay = config.relays[0];
  if (!relay) throw new Error("no relay in the configuration");
  const pool = new Recording(process.env, false);
  try {
    const p = await collectRelayProgressive(relay, pool, collectOptions(config, Date.now));
    return { config, relay, first: p.first, s: (await p.full) ?? p.first, ran: pool.ran };
  } finally {
    await pool.closeAll();
  }
}

describe("the relay's I/O stall on a kernel with PSI (the lab's)", () => {
  it("a real status, through the gate as deployed, reads /proc/pressure/io and runs no vmstat", async () => {
    const { first, s, ran } = await statusThroughGate(relayA);
    expect(s.probeErrors).toEqual([]);
    expect(s.load?.ioPressurePercent).toBeTypeOf("number");
    expect(s.load?.ioPressurePercent).toBeGreaterThanOrEqual(0);
    expect(s.load?.ioPressurePercent).toBeLessThanOrEqual(100);
    expect(s.load?.ioPressureFullPercent).toBeTypeOf("number");
    expect(s.load?.iowaitPercent).toBeNull();
    // Also the first answer, when it was partial: it carries the same system probes.
    expect(first.load?.ioPressurePercent).toBe(s.load?.ioPressurePercent);
    const psi = ran.filter((c) => c.endsWith("cat /proc/pressure/io"));
    expect(psi).toHaveLength(1);
    expect(ran.filter((c) => /\bvmstat\b/.test(c))).toEqual([]);
  });
});

/** The gate as deployed before it allowed /proc/pressure/io: today's gate without that one clause. */
function gateBeforePsi(): string {
  const today = readFileSync(new URL("../../deploy/relay/mailq-bot-gate", import.meta.url), "utf8");
  const clause = " || $a[0] eq '/proc/pressure/io'";
  if (!today.includes(clause)) throw new Error("the gate's PSI clause moved: update this test's older gate");
  return today.replace(clause, "");
}

describe("a relay whose gate predates PSI (deployed before it, not reinstalled)", () => {
  it("a real status falls back to vmstat (the card's iowait, no probe error); doctor asks for the current gate", async () => {
    // A relay of its own: its key is pointed at the older gate.
    const relay = await startRelay(lab, "relay-old-gate");
    const dir = dirname(relay.gateLogPath);
    const oldGate = join(dir, "mailq-bot-gate-before-psi");
    writeFileSync(oldGate, gateBeforePsi());
    chmodSync(oldGate, 0o755);
    const keys = join(dir, "ssh", "gate_authorized_keys");
    const line = readFileSync(keys, "utf8");
    const gate = join(lab.root, "mailq-bot-gate");
    expect(line).toContain(`command="${gate} `);
    writeFileSync(keys, line.replace(`command="${gate} `, `command="${oldGate} `));

    const { config, relay: r, s, ran } = await statusThroughGate(relay);
    expect(s.probeErrors).toEqual([]);
    expect(s.load?.ioPressurePercent).toBeNull();
    expect(s.load?.iowaitPercent).toBeTypeOf("number");
    expect(s.load?.iowaitPercent).toBeGreaterThanOrEqual(0);
    expect(s.load?.iowaitPercent).toBeLessThanOrEqual(100);
    expect(statusText([s], Date.now())).toMatch(new RegExp(`iowait ${s.load?.iowaitPercent}%`));
    expect(statusText([s], Date.now())).not.toMatch(/I\/O stall/);
    expect(ran.filter((c) => c.endsWith("cat /proc/pressure/io"))).toHaveLength(1);
    expect(ran.filter((c) => c.endsWith("vmstat 1 2"))).toHaveLength(1);
    expect(readFileSync(relay.gateLogPath, "utf8")).toMatch(/REFUSED.*cat \/proc\/pressure\/io/);

    // doctor names the outdated gate and the fix, rather than a kernel without PSI.
    const checks = await relayChecks(r as SshRelayConfig, {
      timeoutMs: config.probes.timeout,
      listingTimeoutMs: config.probes.listingTimeout,
      logLines: config.probes.logLines,
      nowMs: Date.now,
    });
    const probesCheck = checks.find((c) => c.name === "probes");
    expect(probesCheck).toMatchObject({
      status: "fail",
      fix: "install the current deploy/relay/mailq-bot-gate on the relay (deploy/relay/install.sh)",
    });
    expect(probesCheck?.detail).toMatch(
      /^1 of \d+ probes failed: io pressure: the relay's mailq-bot-gate refused it/,
    );
    expect(checks.find((c) => c.name === "io pressure")).toBeUndefined();
  });
});
