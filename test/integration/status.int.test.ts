import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { statusDocumentSchema } from "../../src/json/status-document-schema.js";
import { addressDomain, parsePostqueueJsonLine, type QueueEntry } from "../../src/parsers/postqueue.js";
import { runCli } from "../helpers/cli.js";
import { firstCardWithinMs, fullCardWithinMs, HARNESS_MS } from "../helpers/deadlines.js";
import { asGate, labRelayEntry } from "../helpers/lab-relay.js";
import { type LabRelay, labExec, startRelay } from "../lab/lab.js";
import { isAlive, readPid, waitFor } from "../lab/sys.js";

const lab = inject("lab");
const relayA = lab.relays.find((r) => r.name === "relay-a") as LabRelay;
const relayB = lab.relays.find((r) => r.name === "relay-b") as LabRelay;

/** What Postfix itself says, read locally (no SSH) with the instance's MAIL_CONFIG. */
async function postqueueTruth(relay: LabRelay): Promise<QueueEntry[]> {
  const r = await labExec(relay, ["postqueue", "-j"]);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const p = parsePostqueueJsonLine(l);
      if (!p.ok) throw new Error(p.error);
      return p.value;
    });
}

const relayEntry = labRelayEntry;

/** Accepts TCP and never says a word: a relay that hangs mid-handshake. */
let blackHole: Server;
const holes = new Set<Socket>();
let blackHolePort: number;

beforeAll(async () => {
  blackHole = createServer((socket) => holes.add(socket));
  await new Promise<void>((r) => blackHole.listen(0, "127.0.0.1", r));
  blackHolePort = (blackHole.address() as AddressInfo).port;
});
afterAll(
  () =>
    new Promise<void>((r) => {
      for (const s of holes) s.destroy();
      blackHole.close(() => r());
    }),
);

describe("mailq-bot status against the lab relays over SSH", () => {
  it("reports the same counts and top domains as postqueue -j, and one row for a cause spread over 120 recipients", async () => {
    const truth = await postqueueTruth(relayA);
    const r = await runCli(["status", "--json", "--wait-full", "--relay", "relay-a"], {
      relays: [relayEntry(relayA)],
    });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    // The real document from a real relay passes the shipped schema (strict: no unknown field).
    expect(statusDocumentSchema.parse(doc).schemaVersion).toBe(1);
    const snap = doc.relays[0];
    expect(snap.ok).toBe(true);
    expect(snap.messages).toBe(truth.length);
    for (const q of ["maildrop", "incoming", "active", "deferred", "hold"])
      expect(snap.queues[q], q).toBe(truth.filter((e) => e.queueName === q).length);
    expect(snap.bytes).toBe(truth.reduce((s, e) => s + e.messageSize, 0));

    const domains = new Map<string, number>();
    for (const e of truth)
      for (const rc of e.recipients)
        domains.set(addressDomain(rc.address), (domains.get(addressDomain(rc.address)) ?? 0) + 1);
    const expectedTop = [...domains].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5);
    expect(snap.topDomains.map((d: { domain: string; count: number }) => [d.domain, d.count])).toEqual(
      expectedTop,
    );

    const refusedRecipients = truth
      .flatMap((e) => e.recipients)
      .filter((rc) => rc.address.endsWith("@refused.lab.test")).length;
    expect(refusedRecipients).toBeGreaterThanOrEqual(120);
    const refusedRows = snap.topReasons.filter((x: { reason: string }) =>
      /Connection refused/.test(x.reason),
    );
    expect(refusedRows).toHaveLength(1);
    expect(refusedRows[0].class).toBe("network");
    // hold.lab.test is routed like refused.lab.test; held mail keeps its reason too
    expect(refusedRows[0].count).toBe(
      truth.flatMap((e) => e.recipients).filter((rc) => /Connection refused/.test(rc.delayReason ?? ""))
        .length,
    );
    const classes = new Set(snap.topReasons.map((x: { class: string }) => x.class));
    expect(classes).toEqual(new Set(["network", "remote-throttling", "dns"]));
    for (const x of snap.topReasons) expect(x.reason).not.toMatch(/@/);
  });

  it("reports spool disk and inodes, master and qmgr, load and the queue files", async () => {
    const r = await runCli(["status", "--json", "--wait-full", "--relay", "relay-a"], {
      relays: [relayEntry(relayA)],
    });
    expect(r.code).toBe(0);
    const snap = JSON.parse(r.out).relays[0];
    expect(snap.probeErrors).toEqual([]);
    expect(snap.disk.path).toBe(relayA.queueDirectory);
    expect(snap.disk.bytes.total).toBeGreaterThan(0);
    expect(snap.disk.inodes.total).toBeGreaterThan(0);
    expect(snap.service).toMatchObject({ masterRunning: true, qmgrRunning: true });
    expect(snap.load.load1).toBeGreaterThanOrEqual(0);
    // The listing answered alone: no directory walk competed with it.
    expect(snap.listing.complete).toBe(true);
    expect(snap.complete).toBe(true);
    expect(snap.queueFiles).toBeNull();
    expect(snap.log.source).toBe(relayA.maillogPath);
    expect(snap.log.deferrals).toBeGreaterThan(0);
  });

  it.each([
    ["as root", {}],
    ["through sudo -n for a non-root user", { username: relayA.sudoUsername, sudo: true }],
  ])(
    "a partial first answer counts the queue directories %s, matching what Postfix lists",
    async (_, extra) => {
      const r = await runCli(["status", "--json"], {
        probes: { firstAnswerAfter: "0s" },
        relays: [relayEntry(relayA, extra)],
      });
      const truth = await postqueueTruth(relayA);
      // A partial document is exit 3: a script must not take it for the whole answer.
      expect(r.code).toBe(3);
      const snap = JSON.parse(r.out).relays[0];
      expect(snap.ok).toBe(true);
      expect(snap.probeErrors).toEqual([]);
      expect(snap.listing.complete).toBe(false);
      expect(snap.complete).toBe(false);
      expect(snap.listing.countsExact).toBe(true);
      expect(snap.listing.shareRead).toBe(snap.listing.entriesRead / truth.length);
      const listed = (q: string) => truth.filter((e) => e.queueName === q).length;
      expect(snap.queueFiles.hold).toBe(listed("hold"));
      expect(snap.queues.hold).toBe(listed("hold"));
      // A retry may move deferred mail through active meanwhile; none of it leaves the queue.
      expect(snap.queueFiles.deferred + snap.queueFiles.active).toBe(listed("deferred") + listed("active"));
      expect(snap.messages).toBe(truth.length);
    },
  );

  it("works through sudo -n for a non-root user", async () => {
    const r = await runCli(["status", "--json", "--wait-full"], {
      relays: [relayEntry(relayA, { name: "relay-a-sudo", username: relayA.sudoUsername, sudo: true })],
    });
    expect(r.code).toBe(0);
    const snap = JSON.parse(r.out).relays[0];
    expect(snap.ok).toBe(true);
    expect(snap.probeErrors).toEqual([]);
    expect(snap.messages).toBe((await postqueueTruth(relayA)).length);
  });

  it("prints a readable text card", async () => {
    const r = await runCli(["status"], { relays: [relayEntry(relayA), relayEntry(relayB)] });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^== relay-a: \d+ deferred · \d+ on hold · top cause: /m);
    expect(r.out).toMatch(/^== relay-b: \d+ deferred/m);
    expect(r.out).toContain("top deferral reasons:");
  });

  it("on a terminal, shows the listing's progress on stderr and clears it before the answer", async () => {
    const truth = await postqueueTruth(relayA);
    const config = { relays: [relayEntry(relayA)] };
    const tty = await runCli(["status", "--relay", "relay-a"], config, {}, { stderrIsTty: true });
    expect(tty.code).toBe(0);
    // The line redraws at most every 250 ms, so which counts it shows depends on the machine's pace:
    // assert only that every drawn count is a real reading (never falling, never above the queue).
    const writes = tty.err.split("\r\x1b[K");
    expect(writes[0]).toBe("");
    // The last write clears the line.
    expect(writes.at(-1)).toBe("");
    const drawn = writes
      .filter((w) => w !== "")
      .map((w) => {
        const m = /^⏳ relay-a: ([\d,]+) messages listed \([\d,]+\/s\)$/.exec(w);
        expect(m, w).not.toBeNull();
        return Number(m?.[1]?.replaceAll(",", ""));
      });
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn).toEqual([...drawn].sort((a, b) => a - b));
    expect(Math.max(...drawn)).toBeLessThanOrEqual(truth.length);
    // Not a terminal (a pipe, a log): nothing on stderr.
    expect((await runCli(["status", "--relay", "relay-a"], config)).err).toBe("");
  });

  describe("relays that cannot be reached", () => {
    const wrongKey = `SHA256:${"x".repeat(43)}`;
    const cases = () => [
      {
        name: "down",
        cfg: relayEntry(relayA, { name: "down", port: 1 }),
        expect: /down \(root@127\.0\.0\.1:1\): cannot connect over SSH: connection refused/,
      },
      {
        name: "spoofed",
        cfg: relayEntry(relayA, { name: "spoofed", hostKeyFingerprint: wrongKey }),
        expect: new RegExp(
          `host key mismatch: expected ${wrongKey}, the relay presented ${relayA.hostKeyFingerprint.replace(/[+/]/g, "\\$&")}; connection refused`,
        ),
      },
      {
        name: "nokey",
        cfg: relayEntry(relayA, { name: "nokey", username: "nobody" }),
        expect: /nokey \(nobody@127\.0\.0\.1:\d+\): the relay refused the bot's SSH key/,
      },
      {
        name: "hang",
        cfg: relayEntry(relayA, { name: "hang", port: blackHolePort }),
        expect: /hang \(root@127\.0\.0\.1:\d+\): no SSH answer in time/,
      },
    ];

    it("says so in plain words for each, still reports the healthy relay, and waits no longer than the probe timeout", async () => {
      const cs = cases();
      const raw = {
        probes: { timeout: "4s" },
        relays: [relayEntry(relayA), ...cs.map((c) => c.cfg)],
      };
      const r = await runCli(["status", "--json"], raw);
      expect(r.code).toBe(1);
      const doc = JSON.parse(r.out);
      const byName = new Map(doc.relays.map((s: { relay: string }) => [s.relay, s]));
      expect((byName.get("relay-a") as { ok: boolean }).ok).toBe(true);
      for (const c of cs) {
        const s = byName.get(c.name) as { ok: boolean; error: string };
        expect(s.ok, c.name).toBe(false);
        expect(s.error, c.name).toMatch(c.expect);
      }
      // The hanging relay costs its connect timeout, never more than the bot's own deadlines.
      expect(r.ms).toBeLessThan(firstCardWithinMs(parseConfig(raw, "test", "/tmp")));
    });
  });

  it("exits 2 and names the problem for an unknown relay, running nothing", async () => {
    const r = await runCli(["status", "--relay", "relay-z"], { relays: [relayEntry(relayA)] });
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown relay "relay-z". Known relays: relay-a');
  });
});

describe("the local relay (no configuration file)", () => {
  it("probes this machine without SSH", async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "mailq-local-"));
    const tsx = join(process.cwd(), "node_modules/.bin/tsx");
    const { stdout } = await promisify(execFile)(
      tsx,
      [join(process.cwd(), "src/cli.ts"), "status", "--json"],
      {
        cwd: dir,
        env: { ...process.env, MAIL_CONFIG: relayB.configDir, MAILQ_CONFIG: "" },
      },
    );
    const snap = JSON.parse(stdout).relays[0];
    expect(snap.relay).toBe("local");
    expect(snap.ok).toBe(true);
    expect(snap.messages).toBe((await postqueueTruth(relayB)).length);
  });
});

describe("mailq-bot watch (terminal)", () => {
  it("prints an update every interval with the change since the last one, until Ctrl-C", async () => {
    const { spawn } = await import("node:child_process");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { stringify } = await import("yaml");
    const dir = mkdtempSync(join(tmpdir(), "mailq-watch-"));
    const raw = { probes: { timeout: "5s", listingTimeout: "5s" }, relays: [relayEntry(relayB)] };
    writeFileSync(join(dir, "mailq.yaml"), stringify(raw));
    // Two updates, each within the probe deadlines of this config, plus tsx starting the CLI.
    const waitMs = 2 * fullCardWithinMs(parseConfig(raw, "test", dir)) + HARNESS_MS;
    const child = spawn(
      join(process.cwd(), "node_modules/.bin/tsx"),
      [join(process.cwd(), "src/cli.ts"), "watch", "--every", "1s"],
      { cwd: dir },
    );
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no second update: ${out}`)), waitMs);
      child.stdout.on("data", () => {
        if (out.includes("-- update 1 ") && out.includes("since last")) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    child.kill("SIGINT");
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(code).toBe(0);
    expect(out).toMatch(/^-- update 0 at .* \(every 1s; Ctrl-C stops\)$/m);
    expect(out).toMatch(/^== relay-b: \d+ deferred/m);
    expect(out).toMatch(/since last \((?:a few|\d+) seconds ago\): total ±0/);
  });
});

describe("master and qmgr from master.pid and ps, not postfix status", () => {
  it("through the gate and sudo: running, with no line added to the mail log; after postfix stop, master down", async () => {
    const r = await startRelay(lab, "relay-masterpid");
    const status = async () => {
      const out = await runCli(["status", "--json", "--wait-full"], { relays: [relayEntry(r, asGate(r))] });
      expect(out.err).toBe("");
      return { code: out.code, snap: JSON.parse(out.out).relays[0] };
    };
    const log = () => readFileSync(r.maillogPath, "utf8");
    const master = await readPid(join(r.queueDirectory, "pid", "master.pid"));
    if (!master) throw new Error("relay-masterpid has no master.pid");

    const logBefore = log();
    const up = await status();
    expect(up.code).toBe(0);
    expect(up.snap.probeErrors).toEqual([]);
    expect(up.snap.service).toMatchObject({ masterRunning: true, masterPid: master, qmgrRunning: true });
    expect(up.snap.service.statusMessage).toBe(
      `master PID ${master} running (master.pid), qmgr PID ${up.snap.service.qmgrPid}`,
    );
    // A marker through the same path (postlog, then postlogd): once it is in, anything the status
    // run logged is in before it. It is the only new line.
    await labExec(r, ["postlog", "-t", "postfix/mailq-test", "after the status run"]);
    await waitFor("the marker in the mail log", async () => log().includes("after the status run"));
    expect(log().slice(logBefore.length)).toMatch(
      /^\S+ \S+ +\S+ \S+ postfix\/mailq-test\[\d+\]: after the status run\n$/,
    );
    // What the bot no longer runs, as a control: postfix status writes its answer there every time.
    const logMarked = log();
    await labExec(r, ["postfix", "status"]);
    await waitFor("postfix status's line in the mail log", async () => log().length > logMarked.length);
    expect(log().slice(logMarked.length)).toMatch(
      /^\S+ \S+ +\S+ \S+ postfix\/postfix-script\[\d+\]: the Postfix mail system is running: PID: \d+\n$/,
    );

    await labExec(r, ["postfix", "stop"]);
    await waitFor("relay-masterpid's master to exit", async () => !isAlive(master));
    const logStopped = log();
    const down = await status();
    // Without master, showq is gone: a non-root postqueue cannot list (root reads the queue directly).
    // That is the relay's answer, not a relay that did not answer: Postfix is down, and the counts
    // come from the queue directories.
    expect(down.snap.ok).toBe(true);
    expect(down.snap.error).toBeUndefined();
    // An answer, but not the whole queue: scripts get 3, in text as in JSON.
    expect(down.code).toBe(3);
    const text = await runCli(["status", "--wait-full"], { relays: [relayEntry(r, asGate(r))] });
    expect(text.code).toBe(3);
    expect(text.out).toMatch(/^== relay-masterpid: 🛑 Postfix is not running: nothing is delivered/);
    expect(down.snap.probeErrors).toEqual([
      {
        probe: "postqueue -j",
        message: expect.stringMatching(
          /^Postfix's master is not running, so postqueue -j cannot list the queue \(postqueue -j exited 69: .*mail system is down.*\); counts are from the queue directories$/,
        ),
      },
    ]);
    expect(down.snap.queueFiles).toEqual(up.snap.queues);
    expect(down.snap.queues).toEqual(up.snap.queues);
    // master.pid outlives master; until PID 1 reaps it, ps may still list it as <defunct>.
    expect(down.snap.service).toEqual({
      masterRunning: false,
      qmgrRunning: false,
      statusMessage: expect.stringMatching(
        new RegExp(`^master\\.pid names PID ${master}, which (?:is not running|has exited \\(defunct\\))$`),
      ),
    });
    expect(log().slice(logStopped.length)).not.toMatch(/postfix-script/);
    // Triage reads the same answer: Postfix down comes first, with what was checked, not "did not answer".
    const triage = await runCli(["triage"], { relays: [relayEntry(r, asGate(r))] });
    expect(triage.out).toContain("Postfix's master is not running: nothing is delivered");
    expect(triage.out).toMatch(new RegExp(`master\\.pid names PID ${master}, which`));
    expect(triage.out).not.toContain("did not answer");
  });
});

describe("a relay whose sshd allows few sessions", () => {
  it("a full status still answers whole: a refused session is opened again within the deadline", async () => {
    // sshd's MaxSessions caps the channels on one connection (10 by default; 2 here, under the
    // bot's 8 at once), and sshd counts a channel until it has processed the close.
    const tight = await startRelay(lab, "relay-tight", { maxSessions: 2 });
    const truth = await postqueueTruth(tight);
    const r = await runCli(["status", "--json", "--wait-full"], { relays: [relayEntry(tight)] });
    expect(r.code).toBe(0);
    const snap = JSON.parse(r.out).relays[0];
    expect(snap.probeErrors).toEqual([]);
    expect(snap.messages).toBe(truth.length);
    expect(snap.service).toMatchObject({ masterRunning: true, qmgrRunning: true });
  });
});

describe("the SSH runner's deadline", () => {
  it("answers when the deadline passes, marked timed out, even if the command runs on", async () => {
    const { SshRunner } = await import("../../src/relay/ssh.js");
    const runner = await SshRunner.connect(
      { kind: "ssh", sudo: false, ...relayEntry(relayA) } as never,
      5000,
    );
    try {
      const started = Date.now();
      const r = await runner.run(["sh", "-c", "trap '' TERM HUP; sleep 29.97"], { timeoutMs: 700 });
      expect(r.timedOut).toBe(true);
      // At its deadline, not when the 30 s command ends.
      expect(Date.now() - started).toBeLessThan(700 + HARNESS_MS);
      // the connection is still good for the next command
      expect((await runner.run(["echo", "ok"], { timeoutMs: 5000 })).stdout.trim()).toBe("ok");
    } finally {
      await runner.close();
      // The command ignores SIGTERM and sshd may not pass the KILL on: end it here, not at lab teardown.
      await promisify(execFile)("pkill", ["-KILL", "-f", "sleep 29.97"]).catch(() => {});
    }
  });
});

describe("probes.compression", () => {
  it("with zlib on, the same snapshot arrives in a fraction of the bytes", async () => {
    const { SshRunner } = await import("../../src/relay/ssh.js");
    const { RunnerPool, collectRelay } = await import("../../src/relay/collect.js");
    const { parseConfig } = await import("../../src/config.js");
    const relay = parseConfig({ relays: [relayEntry(relayA)] }, "test", "/tmp").relays[0];
    if (!relay) throw new Error("no relay");
    const opts = {
      timeoutMs: 20_000,
      logLines: 100,
      thresholds: { diskPercent: 90, inodePercent: 90 },
      nowMs: Date.now,
    };
    const run = async (compression: boolean) => {
      const pool = new RunnerPool(process.env, compression);
      try {
        const snap = await collectRelay(relay, pool, opts);
        const runner = await pool.get(relay, 20_000);
        if (!(runner instanceof SshRunner)) throw new Error("expected an SSH runner");
        return { snap, bytes: runner.bytesOnWire };
      } finally {
        await pool.closeAll();
      }
    };
    const plain = await run(false);
    const zlib = await run(true);
    expect(zlib.snap.ok).toBe(true);
    expect(zlib.snap.listing.complete).toBe(true);
    const same = (s: typeof plain.snap) => [s.messages, s.queues, s.topReasons, s.topDomains, s.bytes];
    expect(same(zlib.snap)).toEqual(same(plain.snap));
    // The listing is repetitive JSON: zlib shrinks what crosses the wire several-fold.
    expect(plain.bytes).toBeGreaterThan(20_000);
    expect(zlib.bytes * 3).toBeLessThan(plain.bytes);
  });
});

describe("a dropped SSH connection", () => {
  it("is forgotten at once: the next collection reconnects and answers whole", async () => {
    const { RunnerPool, collectRelay } = await import("../../src/relay/collect.js");
    const relay = parseConfig({ relays: [relayEntry(relayA)] }, "test", "/tmp").relays[0];
    if (!relay) throw new Error("no relay");
    const pool = new RunnerPool(process.env, false);
    try {
      const lease = await pool.lease(relay, 20_000);
      const dropped = lease.runner;
      lease.release();
      const gone = new Promise<void>((resolve) => dropped.onClosed?.(resolve));
      // Closed behind the pool's back, as a reset or a relay's reboot would.
      await dropped.close();
      await gone;
      const again = await pool.lease(relay, 20_000);
      expect(again.runner).not.toBe(dropped);
      again.release();
      const snap = await collectRelay(relay, pool, {
        timeoutMs: 20_000,
        logLines: 100,
        thresholds: { diskPercent: 90, inodePercent: 90 },
        nowMs: Date.now,
      });
      expect(snap.ok).toBe(true);
      expect(snap.listing.complete).toBe(true);
    } finally {
      await pool.closeAll();
    }
  });
});
