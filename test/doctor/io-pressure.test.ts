import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ioPressureCheck, psiAnswers } from "../../src/relay/doctor.js";
import type { ProbeContext } from "../../src/relay/probes.js";
import type { RunResult } from "../../src/relay/runner.js";

/** A relay that answers `cat /proc/pressure/io` as given, and nothing else. */
function ctx(answer: RunResult): ProbeContext {
  return {
    runner: {
      relay: "r",
      run: async (argv) =>
        argv.join(" ") === "cat /proc/pressure/io"
          ? answer
          : { code: 127, stdout: "", stderr: "not found", timedOut: false },
      close: async () => {},
    },
    sudo: false,
    deadlineMs: Date.now() + 5000,
    nowMs: Date.now,
  };
}

const captured = readFileSync(join(import.meta.dirname, "../fixtures/relay-a/pressure-io.txt"), "utf8");

describe("relay doctor: /proc/pressure/io", () => {
  it("a kernel with PSI answers, and the line says status needs no vmstat", async () => {
    expect(await psiAnswers(ctx({ code: 0, stdout: captured, stderr: "", timedOut: false }))).toBe(true);
    expect(ioPressureCheck("relay-a", true)).toMatchObject({ status: "ok", name: "io pressure" });
  });

  it.each([
    ["no such file (no PSI, or psi=0)", "cat: /proc/pressure/io: No such file or directory"],
    ["not supported", "cat: /proc/pressure/io: Operation not supported"],
  ])("%s is an answer, not a failure: a warning with the fix and the cost", async (_label, stderr) => {
    expect(await psiAnswers(ctx({ code: 1, stdout: "", stderr, timedOut: false }))).toBe(false);
    const c = ioPressureCheck("relay-a", false);
    expect(c.status).toBe("warn");
    expect(c.detail).toMatch(/vmstat 1 2, which holds the relay's connection a second/);
    expect(c.fix).toMatch(/psi=1/);
  });

  it("a gate that predates PSI is a failure naming the gate, as any refused probe", async () => {
    const refused = {
      code: 126,
      stdout: "",
      stderr: "mailq-bot-gate: refused: not in the allowlist: cat /proc/pressure/io",
      timedOut: false,
    };
    await expect(psiAnswers(ctx(refused))).rejects.toThrow(
      "io pressure: the relay's mailq-bot-gate refused it; update the gate on the relay",
    );
  });
});
