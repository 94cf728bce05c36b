import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ProbeError } from "../../src/analysis/snapshot.js";
import type { ProbeContext } from "../../src/relay/probes.js";
import type { CommandRunner, RunResult } from "../../src/relay/runner.js";
import { startQueueDirProbes, startSystemProbes, systemParts } from "../../src/relay/system-probes.js";

// Real outputs captured on the lab (test/fixtures/relay-a).
const fixture = (f: string) => readFileSync(join(import.meta.dirname, "../fixtures/relay-a", f), "utf8");
const answered = (stdout: string): RunResult => ({ code: 0, stdout, stderr: "", timedOut: false });
const failed = (code: number, stderr: string): RunResult => ({ code, stdout: "", stderr, timedOut: false });

const NO_PSI = failed(1, "cat: /proc/pressure/io: No such file or directory\n");
const OLD_GATE = failed(126, "mailq-bot-gate: refused: not in the allowlist: cat /proc/pressure/io\n");

/** A relay whose system commands answer as given; `ran` records each argv, in the order asked. */
function relay(pressure: RunResult, vmstat: RunResult = answered(fixture("vmstat.txt"))) {
  const ran: string[] = [];
  const runner: CommandRunner = {
    relay: "r",
    async run(argv) {
      const c = argv.join(" ");
      ran.push(c);
      if (c === "cat /proc/pressure/io") return pressure;
      if (c === "vmstat 1 2") return vmstat;
      if (c === "cat /proc/loadavg") return answered(fixture("loadavg.txt"));
      if (c.startsWith("ps ")) return answered(fixture("ps.txt"));
      return failed(127, `${argv[0]}: not found`);
    },
    async close() {},
  };
  const ctx: ProbeContext = { runner, sudo: false, deadlineMs: Date.now() + 5000, nowMs: Date.now };
  return { ran, ctx };
}

async function load(pressure: RunResult, vmstat?: RunResult) {
  const { ran, ctx } = relay(pressure, vmstat);
  const errors: ProbeError[] = [];
  const soft = <T>(probe: string, p: Promise<T>) =>
    p.catch((e: Error) => {
      errors.push({ probe, message: e.message });
      return undefined;
    });
  const system = startSystemProbes(ctx, soft);
  // Started at once, side by side: nothing waits for another's answer.
  const startedAtOnce = [...ran];
  const parts = await systemParts(system, startQueueDirProbes(ctx, soft, undefined, 10), {
    settings: undefined,
    thresholds: { diskPercent: 90, inodePercent: 90 },
    top: 5,
  });
  return { load: parts.load, ran, startedAtOnce, errors };
}

describe("the relay's I/O stall: PSI first, vmstat 1 2 only without it", () => {
  it("with /proc/pressure/io answering, reads its some avg10 and runs no vmstat", async () => {
    const r = await load(answered(fixture("pressure-io.txt")));
    expect(r.startedAtOnce).toEqual([
      "ps -eo pid,ppid,etimes,comm,args",
      "cat /proc/loadavg",
      "cat /proc/pressure/io",
    ]);
    expect(r.ran).not.toContain("vmstat 1 2");
    expect(r.load).toEqual({
      load1: 4,
      load5: 1.34,
      load15: 0.58,
      ioPressurePercent: 12.27,
      ioPressureFullPercent: 0,
      iowaitPercent: null,
    });
    expect(r.errors).toEqual([]);
  });

  it.each([
    ["a kernel without PSI (or booted with psi=0)", NO_PSI],
    ["a gate installed before PSI was read", OLD_GATE],
    ["output that is not PSI's", answered("some avg10=250.00 avg60=0.00 avg300=0.00 total=1\n")],
    ["an empty answer", answered("")],
  ])("with %s, runs vmstat 1 2 after it and fills iowait; no probe error", async (_label, pressure) => {
    const r = await load(pressure);
    expect(r.ran.filter((c) => c === "vmstat 1 2")).toHaveLength(1);
    expect(r.ran.indexOf("vmstat 1 2")).toBeGreaterThan(r.ran.indexOf("cat /proc/pressure/io"));
    expect(r.load).toMatchObject({
      load1: 4,
      ioPressurePercent: null,
      ioPressureFullPercent: null,
      iowaitPercent: 0,
    });
    expect(r.errors).toEqual([]);
  });

  it("with neither answering, the load stays and vmstat's failure is the probe error, naming both reasons", async () => {
    const r = await load(OLD_GATE, failed(127, "sh: vmstat: not found"));
    expect(r.load).toMatchObject({ load1: 4, ioPressurePercent: null, iowaitPercent: null });
    expect(r.errors).toEqual([
      {
        probe: "vmstat",
        message:
          "vmstat: command not found on the relay (/proc/pressure/io did not answer either: io pressure: the relay's mailq-bot-gate refused it; update the gate on the relay)",
      },
    ]);
  });
});
