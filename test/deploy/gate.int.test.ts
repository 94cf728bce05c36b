import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { parseIoPressure } from "../../src/parsers/system.js";
import { GATE_SENTINEL } from "../../src/relay/doctor.js";
import { QueueCountReader, queueCountArgv } from "../../src/relay/probes.js";
import { shellQuote, withCommandPath } from "../../src/relay/runner.js";
import { runCli } from "../helpers/cli.js";
import { asGate, labRelayEntry } from "../helpers/lab-relay.js";
import {
  fillStandardScenario,
  type LabRelay,
  labExec,
  postqueueJson,
  startRelay,
  waitForQueueSettled,
} from "../lab/lab.js";

const lab = inject("lab");
let relay: LabRelay;

/** The real OpenSSH client, as the gate user, with a raw command string. */
async function ssh(
  command: string | null,
  stdin = "",
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = [
    "-i",
    relay.privateKeyPath,
    "-p",
    String(relay.port),
    "-o",
    `UserKnownHostsFile=${lab.knownHostsPath}`,
    "-o",
    "BatchMode=yes",
    "-T",
    `${relay.gateUsername}@127.0.0.1`,
  ];
  if (command !== null) args.push(command);
  return new Promise((resolve) => {
    const child = execFile("ssh", args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(stdin);
  });
}

const gateLog = () => readFileSync(relay.gateLogPath, "utf8");
/**
 * The queue once Postfix is done moving it: an earlier test's requeue may still be in maildrop
 * (pickup gives it a new ID), which no refusal here caused.
 */
const queueState = async () => {
  await waitForQueueSettled(relay);
  return JSON.stringify((await postqueueJson(relay)).map((e) => [e.queue_id, e.queue_name]).sort());
};

beforeAll(async () => {
  // An instance of its own: this file puts mail on hold and back.
  relay = await startRelay(lab, "relay-gate");
  await fillStandardScenario(relay);
});

describe("the relay-side gate and sudoers (deploy/relay)", () => {
  /** `mailq-bot status --json` as the gate user; `firstAnswerAfter: "0s"` forces the partial answer that counts the queue directories. */
  async function gatedStatus(args: string[], probes: Record<string, string> = {}, exitCode = 0) {
    const cfg = {
      probes,
      relays: [labRelayEntry(relay, { name: "gated", ...asGate(relay) })],
    };
    const { code, out } = await runCli(["status", "--json", ...args], cfg);
    expect(code).toBe(exitCode);
    return JSON.parse(out).relays[0];
  }

  it("let the whole probe catalogue through: status works with nothing more", async () => {
    const snap = await gatedStatus(["--wait-full"]);
    expect(snap.probeErrors).toEqual([]);
    expect(snap.listing.complete).toBe(true);
    expect(snap.queues.hold).toBe(10);
    expect(snap.messages).toBe((await postqueueJson(relay)).length);
    expect(snap.service).toMatchObject({ masterRunning: true, qmgrRunning: true });
    expect(snap.log.deferrals).toBeGreaterThan(0);
    // The lab kernel has PSI: the gate lets /proc/pressure/io through, so no vmstat was needed.
    expect(snap.load.ioPressurePercent).toBeTypeOf("number");
    expect(snap.load.iowaitPercent).toBeNull();

    const partial = await gatedStatus([], { firstAnswerAfter: "0s" }, 3);
    expect(partial.probeErrors).toEqual([]);
    expect(partial.listing.complete).toBe(false);
    expect(partial.queueFiles.hold).toBe(10);
    expect(partial.messages).toBe(snap.messages);
    // The log is the lab's, shared by every relay: doctor's deliberate probe of the gate may be in it.
    expect(
      gateLog()
        .split("\n")
        .filter((l) => l.includes("REFUSED") && !l.includes(GATE_SENTINEL)),
    ).toEqual([]);
  });

  const q = () => relay.queueDirectory;
  it.each([
    ["rm", () => "rm -rf /tmp/anything"],
    ["reading /etc/shadow", () => "cat /etc/shadow"],
    // Near misses of the I/O pressure read: only /proc/pressure/io, alone.
    ["another pressure file", () => "cat /proc/pressure/cpu"],
    ["the memory pressure file", () => "cat /proc/pressure/memory"],
    ["the I/O pressure file and /etc/shadow", () => "cat /proc/pressure/io /etc/shadow"],
    ["/etc/shadow by way of /proc/pressure", () => "cat /proc/pressure/../../etc/shadow"],
    ["the I/O pressure file with a flag", () => "cat -A /proc/pressure/io"],
    ["reading /etc/shadow through sudo", () => "sudo -n cat /etc/shadow"],
    ["tail of another file", () => "sudo -n tail -n 5 /etc/shadow"],
    ["postsuper -d ALL", () => "postsuper -d ALL"],
    ["postsuper -d ALL through sudo", () => "sudo -n postsuper -d ALL"],
    ["a queue ID as an argument", () => "sudo -n postsuper -d ABCDEF12345"],
    ["a command list", () => "postqueue -j; id"],
    ["command substitution", () => "postqueue -j $(id)"],
    ["a pipe", () => "postqueue -j | sh"],
    ["a newline", () => "postqueue -j\nid"],
    ["postconf -e", () => "postconf -e relayhost=evil.example"],
    ["find elsewhere", () => "sudo -n find /etc -type f -printf ."],
    ["find with -exec", () => `sudo -n find ${q()}/hold -type f -exec rm {} ;`],
    ["names in corrupt/", () => `sudo -n find ${q()}/corrupt -type f -print`],
    ["another queue directory subdir", () => `sudo -n find ${q()}/etc -type f -printf .`],
    ["a path outside the queue", () => `sudo -n find ${q()}/../../etc -type f -printf .`],
    // Near misses of the one queue count (status): only its exact argv passes.
    [
      "the queue count with file names printed",
      () =>
        `sudo -n find ${["maildrop", "incoming", "active", "deferred", "hold"].map((x) => `${q()}/${x}`).join(" ")} -type d -printf %H@ -o -type f -printf %p`,
    ],
    [
      "the queue count with a queue left out",
      () =>
        `sudo -n find ${["maildrop", "incoming", "active", "deferred"].map((x) => `${q()}/${x}`).join(" ")} -type d -printf %H@ -o -type f -printf .`,
    ],
    [
      "the queue count over /etc in place of a queue",
      () =>
        `sudo -n find ${["maildrop", "incoming", "active", "deferred"].map((x) => `${q()}/${x}`).join(" ")} /etc -type d -printf %H@ -o -type f -printf .`,
    ],
    [
      "the queue count with two words passed as one",
      () =>
        `sudo -n find ${["maildrop", "incoming", "active", "deferred", "hold"].map((x) => `${q()}/${x}`).join(" ")} '-type d' -printf %H@ -o -type f -printf .`,
    ],
    [
      "a single queue counted alone (status counts all five in one command)",
      () => `sudo -n find ${q()}/hold -type f -printf .`,
    ],
    ["postcat of a path", () => "sudo -n postcat -q ../../etc/shadow"],
    [
      "postfix status (status reads master.pid and ps; postfix status writes to the mail log)",
      () => "sudo -n postfix status",
    ],
    ["another PATH", () => "env PATH=/tmp postqueue -j"],
    ["dig with an option smuggled in as a name", () => "dig +tries=1 +time=2 MX -fetc/shadow"],
    ["a zone transfer", () => "dig +tries=1 +time=2 AXFR lab.test @127.0.0.1"],
    [
      "openssl reading another file than smtpd_tls_cert_file",
      () => "openssl x509 -enddate -noout -in /etc/shadow",
    ],
    [
      "openssl reading a private key",
      () => "openssl x509 -enddate -noout -in /etc/ssl/private/ssl-cert-snakeoil.key",
    ],
    ["openssl through sudo", () => "sudo -n openssl x509 -enddate -noout -in /etc/shadow"],
    ["openssl printing more than the end date", () => "openssl x509 -text -noout -in /etc/shadow"],
    ["an interactive login", () => null],
    ["a trailing newline after a queue ID", () => "sudo -n postcat -q 'ABCDEF12345\n'"],
    ["a trailing newline after a queue name", () => "sudo -n postsuper -h - 'deferred\n'"],
    ["a trailing newline after a line count", () => "sudo -n tail -n '5\n' /var/log/mail.log"],
    ["postcat with other flags than -q", () => "sudo -n postcat -qh ABCDEF12345"],
    ["postqueue -i through sudo (the bot runs it unprivileged)", () => "sudo -n postqueue -i ABCDEF12345"],
    [
      "sendmail through sudo (a restore runs it unprivileged)",
      () => "sudo -n sendmail -G -i -f a@x.lab.test -- b@y.lab.test",
    ],
    ["sendmail -t (recipients from the headers)", () => "sendmail -t -i -f a@x.lab.test"],
    ["sendmail without -- before the recipients", () => "sendmail -G -i -f a@x.lab.test b@y.lab.test"],
    ["sendmail with another flag", () => "sendmail -G -i -f a@x.lab.test -- -bd"],
    ["sendmail to a non-address", () => "sendmail -G -i -f a@x.lab.test -- '|/bin/sh'"],
    ["sendmail with a sender option smuggled in", () => "sendmail -G -i -f -oQ/tmp -- b@y.lab.test"],
    [
      "journald lines of another program",
      () => "sudo -n journalctl --no-pager -q -o short-iso -n 5 _COMM=sshd",
    ],
    // Side by side: none of these changes the queue, and each finds its own line in the log.
  ])("refuses %s, says so, logs it and changes nothing", { concurrent: true }, async (_label, command) => {
    const before = await queueState();
    const cmd = command();
    const r = await ssh(cmd);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/mailq-bot-gate: refused: /);
    // The gate logs the command with anything outside printable ASCII as "?".
    const logged = `: ${(cmd ?? "").replace(/[^\x20-\x7e]/g, "?")}`;
    expect(
      gateLog()
        .split("\n")
        .filter((l) => l.includes(" REFUSED: ") && l.endsWith(logged)),
    ).not.toEqual([]);
    expect(await queueState()).toBe(before);
  });

  it("refuses ALL or garbage smuggled in on postsuper's stdin, before postsuper runs", async () => {
    const before = await queueState();
    for (const stdin of ["ALL\n", "ABCDEF123\n../etc\n", "ABC DEF\n"]) {
      const r = await ssh("sudo -n postsuper -d - deferred", stdin);
      expect(r.code).toBe(126);
      expect(r.stderr).toContain("a queue ID on stdin is malformed");
    }
    expect(await queueState()).toBe(before);
  });

  it("lets the approved postsuper forms through with IDs on stdin", async () => {
    const ids = (await postqueueJson(relay))
      .filter((e) => e.queue_name === "deferred")
      .slice(0, 3)
      .map((e) => e.queue_id);
    const held = await ssh("sudo -n postsuper -h - deferred", `${ids.join("\n")}\n`);
    expect(held.code).toBe(0);
    expect(held.stderr).toMatch(/Placed on hold: 3 messages/);
    const after = await postqueueJson(relay);
    for (const id of ids) expect(after.find((e) => e.queue_id === id)?.queue_name).toBe("hold");
    const released = await ssh("sudo -n postsuper -H - hold", `${ids.join("\n")}\n`);
    expect(released.stderr).toMatch(/Released from hold: 3 messages/);
    expect(gateLog()).toMatch(/ALLOWED: 3 queue IDs: postsuper -H - hold/);
  });

  it("lets status count every queue directory in one command, exactly as the bot sends it", async () => {
    const argv = queueCountArgv({ sudo: true }, q());
    const r = await ssh(shellQuote(withCommandPath(argv)));
    expect(r.code).toBe(0);
    const reader = new QueueCountReader();
    reader.push(r.stdout);
    const counts = reader.result();
    expect(counts.hold).toBe(10);
    const listed = await postqueueJson(relay);
    expect(counts.deferred).toBe(listed.filter((e) => e.queue_name === "deferred").length);
  });

  it("lets status read the I/O pressure (PSI), exactly as the bot sends it", async () => {
    const r = await ssh(shellQuote(withCommandPath(["cat", "/proc/pressure/io"])));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const psi = parseIoPressure(r.stdout);
    expect(psi.ok).toBe(true);
  });

  it("lets triage count corrupt/ (one byte per file, no names)", async () => {
    const r = await ssh(
      shellQuote(withCommandPath(["sudo", "-n", "find", `${q()}/corrupt`, "-type", "f", "-printf", "."])),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\.*$/);
  });

  it("lets requeue, retry and inspect through, exactly as the bot sends them", async () => {
    const asBot = (argv: string[]) => shellQuote(withCommandPath(["sudo", "-n", ...argv]));
    const [id] = (await postqueueJson(relay))
      .filter((e) => e.queue_name === "deferred")
      .map((e) => e.queue_id);
    const requeued = await ssh(asBot(["postsuper", "-r", "-", "deferred"]), `${id}\n`);
    expect(requeued.stderr).toMatch(/Requeued: 1 message/);
    const retried = await ssh(shellQuote(withCommandPath(["postqueue", "-i", String(id)])));
    expect(retried.code).toBe(0);
    const inspected = await ssh(asBot(["postcat", "-q", String(id)]));
    expect(inspected.stdout).toContain("*** ENVELOPE RECORDS");
    expect(gateLog()).toMatch(new RegExp(`ALLOWED: 1 queue ID, \\d+ bytes, served whole: postcat -q ${id}`));
    // The requeued message waits in maildrop for pickup (which wakes every 60 s): wake it now, so
    // this test leaves the queue settled for the next one, as it found it.
    expect((await labExec(relay, ["postkick", "public", "pickup", "W"])).code).toBe(0);
    await waitForQueueSettled(relay);
  });

  it("and sudoers alone refuses what the gate would: a bypass gets nothing more", async () => {
    // `sudo -l CMD` asks the policy without running anything: 0 allowed, 1 refused.
    const asGateUser = (argv: string[]) =>
      promisify(execFile)("runuser", ["-u", relay.gateUsername, "--", "sudo", "-n", "-l", ...argv]).then(
        () => 0,
        (e) => (e as { code: number }).code,
      );
    expect(await asGateUser(["/usr/sbin/postsuper", "-d", "ALL"])).not.toBe(0);
    expect(await asGateUser(["/usr/bin/cat", "/etc/shadow"])).not.toBe(0);
    expect(await asGateUser(["/usr/bin/find", `${q()}/hold`, "-type", "f", "-delete"])).not.toBe(0);
    expect(await asGateUser(["/usr/sbin/postfix", "stop"])).not.toBe(0);
    // (No postqueue -i grant: test/deploy/sudoers.test.ts reads the rendered file; other labs on
    // this machine may grant the shared gate user more with an older render-sudoers.)
    expect(await asGateUser(["/usr/sbin/postcat", "-q", "ABCDEF12345"])).toBe(0);
    expect(await asGateUser(["/usr/sbin/postsuper", "-h", "-", "deferred"])).toBe(0);
    const queues = ["maildrop", "incoming", "active", "deferred", "hold"].map((x) => `${q()}/${x}`);
    const count = ["-type", "d", "-printf", "%H@", "-o", "-type", "f", "-printf"];
    expect(await asGateUser(["/usr/bin/find", ...queues, ...count, "."])).toBe(0);
    expect(await asGateUser(["/usr/bin/find", ...queues, ...count, "%p"])).not.toBe(0);
    expect(await asGateUser(["/usr/bin/find", ...queues.slice(0, 4), "/etc", ...count, "."])).not.toBe(0);
    expect(await asGateUser(["/usr/bin/find", `${q()}/corrupt`, "-type", "f", "-printf", "."])).toBe(0);
    expect(await asGateUser(["/usr/bin/find", `${q()}/corrupt`, "-type", "f", "-print"])).not.toBe(0);
    expect(await asGateUser(["/usr/bin/find", `${q()}/etc`, "-type", "f", "-printf", "."])).not.toBe(0);
  });

  describe("archive before delete, enforced by the gate", () => {
    const asBot = (argv: string[]) => shellQuote(withCommandPath(["sudo", "-n", ...argv]));
    const deferredIds = async (n: number) =>
      (await postqueueJson(relay))
        .filter((e) => e.queue_name === "deferred")
        .slice(0, n)
        .map((e) => e.queue_id);

    it("refuses postsuper -d of IDs it never served whole, and nothing is deleted", async () => {
      const before = await queueState();
      const ids = await deferredIds(3);
      // A stolen key's "delete ALL": list every ID, feed them to postsuper -d -.
      const r = await ssh(asBot(["postsuper", "-d", "-", "deferred"]), `${ids.join("\n")}\n`);
      expect(r.code).toBe(126);
      expect(r.stderr).toContain(
        "3 of 3 queue IDs were not read whole with postcat -q in the last 60 minutes",
      );
      expect(gateLog()).toMatch(/REFUSED: 3 of 3 queue IDs were not read whole/);
      expect(await queueState()).toBe(before);
    });

    it("one unread ID among read ones refuses the whole call", async () => {
      const before = await queueState();
      const [read, unread] = await deferredIds(2);
      expect((await ssh(asBot(["postcat", "-q", String(read)]))).code).toBe(0);
      const r = await ssh(asBot(["postsuper", "-d", "-", "deferred"]), `${read}\n${unread}\n`);
      expect(r.code).toBe(126);
      expect(r.stderr).toContain(`1 of 2 queue IDs were not read whole`);
      expect(r.stderr).toContain(`(first: ${unread})`);
      expect(await queueState()).toBe(before);
    });

    it("caps the IDs per delete call (relay-side --max-delete, 1000 by default)", async () => {
      const before = await queueState();
      const many = Array.from({ length: 1001 }, (_, i) => `CAP${String(i).padStart(7, "0")}`);
      const r = await ssh(asBot(["postsuper", "-d", "-", "deferred"]), `${many.join("\n")}\n`);
      expect(r.code).toBe(126);
      expect(r.stderr).toContain("1001 queue IDs in one delete; this relay allows at most 1000");
      expect(await queueState()).toBe(before);
    });

    it("deletes what it served whole within the hour (the bot's archive, then delete), once", async () => {
      const ids = await deferredIds(2);
      for (const id of ids) {
        const out = await ssh(asBot(["postcat", "-q", id]));
        expect(out.stdout).toContain("*** MESSAGE FILE END");
        // Recorded in this relay's root-owned state directory.
        expect(statSync(join(relay.gateStatePath, id)).isFile()).toBe(true);
      }
      expect(statSync(relay.gateStatePath).uid).toBe(0);
      const r = await ssh(asBot(["postsuper", "-d", "-", "deferred"]), `${ids.join("\n")}\n`);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/Deleted: 2 messages/);
      const left = new Set((await postqueueJson(relay)).map((e) => e.queue_id));
      for (const id of ids) expect(left.has(id)).toBe(false);
      expect(gateLog()).toMatch(/ALLOWED: 2 queue IDs: postsuper -d - deferred/);
      // A record allows one delete: it is gone, so a reused ID would have to be read again.
      for (const id of ids) expect(existsSync(join(relay.gateStatePath, id))).toBe(false);
    });

    it("a read older than the hour no longer counts", async () => {
      const before = await queueState();
      const [id] = await deferredIds(1);
      expect((await ssh(asBot(["postcat", "-q", String(id)]))).code).toBe(0);
      const old = new Date(Date.now() - 61 * 60_000);
      utimesSync(join(relay.gateStatePath, String(id)), old, old);
      const r = await ssh(asBot(["postsuper", "-d", "-", "deferred"]), `${id}\n`);
      expect(r.code).toBe(126);
      expect(r.stderr).toContain("1 of 1 queue IDs were not read whole");
      expect(await queueState()).toBe(before);
      // The next allowed delete clears records past the window.
      const [other] = (await deferredIds(2)).filter((x) => x !== id);
      expect((await ssh(asBot(["postcat", "-q", String(other)]))).code).toBe(0);
      expect((await ssh(asBot(["postsuper", "-d", "-", "deferred"]), `${other}\n`)).code).toBe(0);
      expect(existsSync(join(relay.gateStatePath, String(id)))).toBe(false);
    });
  });
});
