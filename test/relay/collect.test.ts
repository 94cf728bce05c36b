import { describe, expect, it } from "vitest";
import type { RelayConfig } from "../../src/config.js";
import { collectRelayProgressive, RunnerPool } from "../../src/relay/collect.js";
import type { CommandRunner, RunOptions } from "../../src/relay/runner.js";

const LINE = (id: string) =>
  `{"queue_name": "deferred", "queue_id": "${id}", "arrival_time": 1700000000, "message_size": 900, "sender": "a@b.example", "recipients": [{"address": "u@refused.example", "delay_reason": "connect to x[1.2.3.4]:25: Connection refused"}]}\n`;

/**
 * Every probe answers at once except `postqueue -j`, which streams one line, then ends after
 * `listingMs` (or fails). `find` prints one byte per file, as the real probe asks. `ran` records each command.
 */
function fakePool(listingMs: number, ran: string[] = [], listingCode = 0, masterUp = true): RunnerPool {
  const runner: CommandRunner = {
    relay: "r",
    async run(argv: readonly string[], opts: RunOptions) {
      const cmd = argv.find((a) => !a.startsWith("PATH=") && a !== "env" && a !== "sudo" && a !== "-n");
      ran.push(cmd ?? "");
      if (cmd === "find") {
        // As find prints it for queueCountArgv: each directory's starting point and "@", a dot per file.
        opts.onStdout?.(Buffer.from("/q/maildrop@/q/incoming@/q/active@/q/deferred@/q/deferred@....."));
        opts.onStdout?.(Buffer.from("./q/deferred@./q/ho"));
        opts.onStdout?.(Buffer.from("ld@.."));
        return { code: 0, stdout: "", stderr: "", timedOut: false };
      }
      if (cmd === "postqueue") {
        opts.onStdout?.(Buffer.from(LINE("ABCDE12345")));
        // Like the real runners: the caller's deadline ends the command.
        await new Promise((r) => setTimeout(r, Math.min(listingMs, opts.timeoutMs)));
        if (listingMs > opts.timeoutMs) return { code: null, stdout: "", stderr: "", timedOut: true };
        opts.onStdout?.(Buffer.from(LINE("ABCDE12346")));
        return listingCode === 0
          ? { code: 0, stdout: "", stderr: "", timedOut: false }
          : {
              code: listingCode,
              stdout: "",
              stderr: "postqueue: fatal: Connection refused",
              timedOut: false,
            };
      }
      if (cmd === "postconf")
        return {
          code: 0,
          stdout: "queue_directory = /q\nmaillog_file = /l\nmail_version = 3.7.11\n",
          stderr: "",
          timedOut: false,
        };
      // This instance's master (PID 100, named by master.pid) with its qmgr, or a stale pid file.
      if (cmd === "ps")
        return {
          code: 0,
          stdout: `    PID    PPID ELAPSED COMMAND         COMMAND\n${masterUp ? "    100       1    9000 master          /usr/lib/postfix/sbin/master -w\n    101     100    9000 qmgr            qmgr -l -t unix -u\n" : ""}`,
          stderr: "",
          timedOut: false,
        };
      if (cmd === "cat" && argv.at(-1)?.endsWith("master.pid"))
        return { code: 0, stdout: "               100\n", stderr: "", timedOut: false };
      return { code: 0, stdout: "", stderr: "", timedOut: false };
    },
    async close() {},
  };
  return new RunnerPool({}, false, { connect: async () => runner });
}

const relay = { kind: "local", name: "local", sudo: false } as RelayConfig;
const opts = {
  timeoutMs: 5000,
  logLines: 100,
  thresholds: { diskPercent: 90, inodePercent: 90 },
  nowMs: Date.now,
};

describe("collectRelayProgressive", () => {
  it("without firstAnswerMs (status --wait-full) waits for the whole listing: one complete answer, no directory walk", async () => {
    const ran: string[] = [];
    const p = await collectRelayProgressive(relay, fakePool(150, ran), opts);
    expect(p.full).toBeNull();
    expect(p.first.listing).toEqual({
      complete: true,
      entriesRead: 2,
      parseErrors: 0,
      shareRead: 1,
      countsExact: true,
    });
    expect(p.first.probeErrors).toEqual([]);
    expect(p.first.queueFiles).toBeNull();
    expect(ran).not.toContain("find");
  });

  it("asked for a first answer, ONE command counts every queue directory, started with the listing, not after the wait", async () => {
    const ran: string[] = [];
    const p = await collectRelayProgressive(relay, fakePool(20, ran), { ...opts, firstAnswerMs: 2000 });
    expect(p.full).toBeNull();
    expect(p.first.listing.complete).toBe(true);
    expect(ran.filter((c) => c === "find")).toHaveLength(1);
    // postconf names the queue directory; the count is the next command, before df and the log.
    expect(ran.indexOf("find")).toBeLessThan(ran.indexOf("df"));
    expect(ran.indexOf("find")).toBeLessThan(ran.indexOf("tail"));
  });

  it("with firstAnswerMs answers early with the directory counts and the part read so far, marked partial, and the full one later", async () => {
    const ran: string[] = [];
    const p = await collectRelayProgressive(relay, fakePool(300, ran), { ...opts, firstAnswerMs: 50 });
    // 1 of the 9 files counted in the queue directories was listed by then.
    expect(p.first.listing).toEqual({
      complete: false,
      entriesRead: 1,
      parseErrors: 0,
      shareRead: 1 / 9,
      countsExact: true,
    });
    expect(p.first.complete).toBe(false);
    expect(p.first.queueFiles).toEqual({ maildrop: 0, incoming: 0, active: 0, deferred: 7, hold: 2 });
    expect(p.first.queues.deferred).toBe(7);
    expect(p.first.messages).toBe(9);
    expect(p.first.probeErrors).toEqual([]);
    expect(ran.filter((c) => c === "find")).toHaveLength(1);
    expect(p.full).not.toBeNull();
    const full = await p.full;
    expect(full?.listing).toEqual({
      complete: true,
      entriesRead: 2,
      parseErrors: 0,
      shareRead: 1,
      countsExact: true,
    });
    expect(full?.complete).toBe(true);
    expect(full?.queues.deferred).toBe(2);
    expect(full?.queueFiles).toBeNull();
  });

  it("a listing cut by its deadline falls back to the directory counts and says so", async () => {
    const ran: string[] = [];
    const p = await collectRelayProgressive(relay, fakePool(1000, ran), {
      ...opts,
      timeoutMs: 200,
      listingTimeoutMs: 200,
    });
    expect(p.first.listing.complete).toBe(false);
    expect(p.first.queues).toMatchObject({ deferred: 7, hold: 2 });
    expect(p.first.probeErrors.map((e) => e.message)).toContain(
      "postqueue -j did not finish before the listing deadline; counts are from the queue directories",
    );
  });

  it("a failed listing is fatal, named, and still counts the directories", async () => {
    const ran: string[] = [];
    const p = await collectRelayProgressive(relay, fakePool(0, ran, 69), opts);
    expect(p.first.service?.masterRunning).toBe(true);
    expect(p.first.ok).toBe(false);
    expect(p.first.error).toMatch(/the queue listing failed: .*Connection refused/);
    expect(p.first.queueFiles).toMatchObject({ deferred: 7, hold: 2 });
  });

  it("a listing that fails because Postfix's master is down is the relay's answer: master down, counts from the directories", async () => {
    const p = await collectRelayProgressive(relay, fakePool(0, [], 69, false), opts);
    expect(p.first.ok).toBe(true);
    expect(p.first.error).toBeUndefined();
    expect(p.first.service).toMatchObject({ masterRunning: false, qmgrRunning: false });
    expect(p.first.service?.statusMessage).toBe("master.pid names PID 100, which is not running");
    expect(p.first.listing.complete).toBe(false);
    expect(p.first.queues).toMatchObject({ deferred: 7, hold: 2 });
    expect(p.first.probeErrors.map((e) => e.message)).toEqual([
      "Postfix's master is not running, so postqueue -j cannot list the queue (postqueue -j exited 69: postqueue: fatal: Connection refused); counts are from the queue directories",
    ]);
  });
});

/**
 * A relay whose queue directory is /q: find of any other directory is refused (as the gate refuses
 * a path postconf does not name). `events` records each command's start, and postconf's answer.
 */
function rememberingPool(events: string[]): RunnerPool {
  const runner: CommandRunner = {
    relay: "r",
    async run(argv: readonly string[], opts: RunOptions) {
      const words = argv.filter((a) => !a.startsWith("PATH=") && a !== "env" && a !== "sudo" && a !== "-n");
      const cmd = words[0] ?? "";
      if (cmd === "find") {
        events.push(`find ${words[1]}`);
        if (!words[1]?.startsWith("/q/"))
          return {
            code: 126,
            stdout: "",
            stderr: "mailq-bot-gate: refused: not in the allowlist",
            timedOut: false,
          };
        opts.onStdout?.(Buffer.from("/q/maildrop@/q/incoming@/q/active@/q/deferred@...../q/hold@.."));
        return { code: 0, stdout: "", stderr: "", timedOut: false };
      }
      events.push(cmd);
      if (cmd === "postqueue") {
        opts.onStdout?.(Buffer.from(LINE("ABCDE12345")));
        await new Promise((r) => setTimeout(r, 200));
        return { code: 0, stdout: "", stderr: "", timedOut: false };
      }
      if (cmd === "postconf") {
        await new Promise((r) => setTimeout(r, 20));
        events.push("postconf answered");
        return { code: 0, stdout: "queue_directory = /q\nmaillog_file = /l\n", stderr: "", timedOut: false };
      }
      return { code: 0, stdout: "", stderr: "", timedOut: false };
    },
    async close() {},
  };
  return new RunnerPool({}, false, { connect: async () => runner });
}

describe("the queue directory remembered from the last snapshot", () => {
  const first = { ...opts, firstAnswerMs: 50 };

  it("starts the directory counts beside postconf instead of after its answer", async () => {
    const events: string[] = [];
    const p = await collectRelayProgressive(relay, rememberingPool(events), {
      ...first,
      queueDirectories: new Map([[relay.name, "/q"]]),
    });
    expect(events.indexOf("find /q/maildrop")).toBeLessThan(events.indexOf("postconf answered"));
    expect(events.filter((e) => e.startsWith("find"))).toEqual(["find /q/maildrop"]);
    expect(p.first.queueFiles).toEqual({ maildrop: 0, incoming: 0, active: 0, deferred: 5, hold: 2 });
    expect(p.first.probeErrors).toEqual([]);
    await p.full;
  });

  it("a directory postconf no longer names is counted again with postconf's; the stale count and its refusal are dropped", async () => {
    const events: string[] = [];
    const p = await collectRelayProgressive(relay, rememberingPool(events), {
      ...first,
      queueDirectories: new Map([[relay.name, "/old/spool"]]),
    });
    expect(events.filter((e) => e.startsWith("find"))).toEqual([
      "find /old/spool/maildrop",
      "find /q/maildrop",
    ]);
    expect(events.indexOf("find /q/maildrop")).toBeGreaterThan(events.indexOf("postconf answered"));
    expect(p.first.queueFiles).toEqual({ maildrop: 0, incoming: 0, active: 0, deferred: 5, hold: 2 });
    expect(p.first.probeErrors).toEqual([]);
    await p.full;
  });

  it.each([
    ["a relative path", "spool/postfix"],
    ["a path climbing out", "/var/spool/../../etc"],
    ["shell syntax", "/var/spool/postfix;rm"],
    ["an empty string", ""],
  ])("ignores %s: the count waits for postconf", async (_label, dir) => {
    const events: string[] = [];
    const p = await collectRelayProgressive(relay, rememberingPool(events), {
      ...first,
      queueDirectories: new Map([[relay.name, dir]]),
    });
    expect(events.filter((e) => e.startsWith("find"))).toEqual(["find /q/maildrop"]);
    expect(events.indexOf("find /q/maildrop")).toBeGreaterThan(events.indexOf("postconf answered"));
    await p.full;
  });

  it("status --wait-full walks no directory, remembered or not", async () => {
    const events: string[] = [];
    await collectRelayProgressive(relay, rememberingPool(events), {
      ...opts,
      queueDirectories: new Map([[relay.name, "/q"]]),
    });
    expect(events.filter((e) => e.startsWith("find"))).toEqual([]);
  });
});
