import { describe, expect, it } from "vitest";
import type { RelayConfig } from "../../src/config.js";
import { collectRelayProgressive, type RunnerPool } from "../../src/relay/collect.js";
import type { CommandRunner, RunOptions } from "../../src/relay/runner.js";

const LINE = (id: string) =>
  `{"queue_name": "deferred", "queue_id": "${id}", "arrival_time": 1700000000, "message_size": 900, "sender": "a@b.example", "recipients": [{"address": "u@refused.example", "delay_reason": "connect to x[1.2.3.4]:25: Connection refused"}]}\n`;

/** Every probe answers at once except `postqueue -j`, which streams one line, then ends after `listingMs`. */
function fakePool(listingMs: number): RunnerPool {
  const runner: CommandRunner = {
    relay: "r",
    async run(argv: readonly string[], opts: RunOptions) {
      const cmd = argv.find((a) => !a.startsWith("PATH=") && a !== "env" && a !== "sudo" && a !== "-n");
      if (cmd === "postqueue") {
        opts.onStdout?.(Buffer.from(LINE("ABCDE12345")));
        await new Promise((r) => setTimeout(r, listingMs));
        opts.onStdout?.(Buffer.from(LINE("ABCDE12346")));
        return { code: 0, stdout: "", stderr: "", timedOut: false };
      }
      if (cmd === "postconf")
        return {
          code: 0,
          stdout: "queue_directory = /q\nmaillog_file = /l\nmail_version = 3.7.11\n",
          stderr: "",
          timedOut: false,
        };
      return { code: 0, stdout: "", stderr: "", timedOut: false };
    },
    async close() {},
  };
  return { get: async () => runner } as unknown as RunnerPool;
}

const relay = { kind: "local", name: "local", sudo: false } as RelayConfig;
const opts = {
  timeoutMs: 5000,
  logLines: 100,
  thresholds: { diskPercent: 90, inodePercent: 90 },
  nowMs: Date.now,
};

describe("collectRelayProgressive", () => {
  it("without firstAnswerMs (status --wait-full) waits for the whole listing: one complete answer", async () => {
    const p = await collectRelayProgressive(relay, fakePool(150), opts);
    expect(p.full).toBeNull();
    expect(p.first.listing).toEqual({ complete: true, entriesRead: 2, parseErrors: 0 });
    expect(p.first.probeErrors).toEqual([]);
  });

  it("with firstAnswerMs answers early with the part read so far, marked partial, and the full one later", async () => {
    const p = await collectRelayProgressive(relay, fakePool(300), { ...opts, firstAnswerMs: 50 });
    expect(p.first.listing).toEqual({ complete: false, entriesRead: 1, parseErrors: 0 });
    expect(p.full).not.toBeNull();
    const full = await p.full;
    expect(full?.listing).toEqual({ complete: true, entriesRead: 2, parseErrors: 0 });
  });
});
