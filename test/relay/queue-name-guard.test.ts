import { describe, expect, it } from "vitest";
import { parsePostqueueJsonLine } from "../../src/parsers/postqueue.js";
import { postsuper } from "../../src/relay/queue-commands.js";
import type { CommandRunner } from "../../src/relay/runner.js";

// Nothing may run: this runner only records, so a refusal is proved by an empty list.
function recordingRunner(): CommandRunner & { ran: (readonly string[])[] } {
  const ran: (readonly string[])[] = [];
  return {
    relay: "relay-a",
    ran,
    async run(argv) {
      ran.push(argv);
      return { code: 0, stdout: "", stderr: "", timedOut: false };
    },
    async close() {},
  };
}

describe("queue names from postqueue -j before they reach an argv", () => {
  it.each(["-dALL", "deferred -d", "corrupt", "", "HOLD", "hold\n"])(
    "postsuper refuses %j as a queue and runs nothing",
    (queue) => {
      const runner = recordingRunner();
      const ctx = { runner, sudo: true, deadlineMs: Date.now() + 10_000, nowMs: Date.now };
      expect(() => postsuper(ctx, "delete", queue, ["ABCDE12345"])).toThrow(/not one of Postfix's queues/);
      expect(runner.ran).toEqual([]);
    },
  );

  it("accepts the five real queues", async () => {
    for (const queue of ["maildrop", "incoming", "active", "deferred", "hold"]) {
      const runner = recordingRunner();
      await postsuper(
        { runner, sudo: false, deadlineMs: Date.now() + 10_000, nowMs: Date.now },
        "hold",
        queue,
        ["ABCDE12345"],
      );
      expect(runner.ran).toEqual([["postsuper", "-h", "-", queue]]);
    }
  });

  it("a listing line with queue_name -dALL parses, so the guard above is what stops it", () => {
    const r = parsePostqueueJsonLine(JSON.stringify({ queue_name: "-dALL", queue_id: "ABCDE12345" }));
    expect(r.ok && r.value.queueName).toBe("-dALL");
  });
});
