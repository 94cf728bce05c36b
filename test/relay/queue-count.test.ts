import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalRunner } from "../../src/relay/local.js";
import { type ProbeContext, probes, QueueCountReader, queueCountArgv } from "../../src/relay/probes.js";

/** A queue directory laid out as Postfix does: hashed deferred/ and hold/ one level deep. */
const root = mkdtempSync(join(tmpdir(), "mailq-qcount-"));
const files: Record<string, string[]> = {
  maildrop: ["M1", "M2"],
  active: ["A1"],
  deferred: ["0/D1", "0/D2", "A/D3", "F/D4", "F/D5"],
  hold: ["H1", "3/H2", "3/H3"],
};
for (const [q, names] of Object.entries(files))
  for (const n of names) {
    mkdirSync(join(root, q, n, ".."), { recursive: true });
    writeFileSync(join(root, q, n), "x");
  }
mkdirSync(join(root, "incoming"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ctx = (): ProbeContext => ({
  runner: new LocalRunner("local"),
  sudo: false,
  deadlineMs: Date.now() + 10_000,
  nowMs: Date.now,
});

describe("the one command that counts every queue directory", () => {
  it("is one find over the five queues, and its real output parses to per-queue counts", async () => {
    const argv = queueCountArgv(ctx(), root);
    expect(argv.filter((a) => a === "find")).toHaveLength(1);
    // The real find's output, as captured: starting points and dots, no file names.
    const [cmd = "", ...args] = argv;
    const out = execFileSync(cmd, args, { encoding: "latin1" });
    expect(out).not.toMatch(/D1|H2|M1/);
    const expected = { maildrop: 2, incoming: 0, active: 1, deferred: 5, hold: 3 };
    const whole = new QueueCountReader();
    whole.push(out);
    expect(whole.result()).toEqual(expected);
    // Chunk boundaries fall anywhere in a stream: one byte at a time gives the same counts.
    const bytewise = new QueueCountReader();
    for (const ch of out) bytewise.push(ch);
    expect(bytewise.result()).toEqual(expected);
    expect(await probes.queueFiles(ctx(), root)).toEqual(expected);
  });

  it("a queue directory find cannot read stays unknown (null); the others are still counted", async () => {
    const partial = mkdtempSync(join(tmpdir(), "mailq-qcount-"));
    try {
      mkdirSync(join(partial, "deferred/0"), { recursive: true });
      writeFileSync(join(partial, "deferred/0/D1"), "x");
      for (const q of ["maildrop", "active", "hold"]) mkdirSync(join(partial, q));
      // incoming/ is missing: find exits 1 and names it on stderr.
      expect(await probes.queueFiles(ctx(), partial)).toEqual({
        maildrop: 0,
        incoming: null,
        active: 0,
        deferred: 1,
        hold: 0,
      });
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  });

  it("fails, named, when no queue directory could be read at all", async () => {
    await expect(probes.queueFiles(ctx(), join(root, "nowhere"))).rejects.toThrow(/find queues exited 1/);
  });
});
