/**
 * The relay lab is real: Postfix queues with the expected failures, sshd with SetEnv MAIL_CONFIG,
 * a restricted sudo user, a local-only resolver, and a stop() that leaves nothing behind.
 * Runs in the "integration" project (global setup: test/lab/global-setup.ts).
 */
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  dnsUsers,
  LAB_DOMAINS,
  type Lab,
  type LabRelay,
  labDnsmasqPid,
  labExec,
  labProcesses,
  postqueueJson,
  type QueueEntry,
  scanLabProcesses,
  sendMail,
  startLab,
  stillRunning,
  waitForQueueSettled,
} from "./lab.js";
import { run } from "./sys.js";
import "./types.js";

const lab = inject("lab");
const scenario = inject("labScenario");

function relay(name: string): LabRelay {
  const r = lab.relays.find((x) => x.name === name);
  if (!r) throw new Error(`no relay ${name} in the lab`);
  return r;
}

function ssh(r: LabRelay, user: string, command: string, knownHosts = lab.knownHostsPath) {
  return run([
    "ssh",
    "-i",
    r.privateKeyPath,
    "-p",
    String(r.port),
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=5",
    `${user}@${r.host}`,
    command,
  ]);
}

const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1);

function recipientsByDomain(entries: QueueEntry[], queue?: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of entries)
    if (!queue || e.queue_name === queue)
      for (const r of e.recipients) counts[domainOf(r.address)] = (counts[domainOf(r.address)] ?? 0) + 1;
  return counts;
}

function reasonsFor(entries: QueueEntry[], domain: string): string[] {
  return entries
    .filter((e) => e.queue_name === "deferred")
    .flatMap((e) => e.recipients)
    .filter((r) => domainOf(r.address) === domain)
    .map((r) => r.delay_reason ?? "");
}

describe("relay-a queue (standard scenario)", () => {
  let entries: QueueEntry[];
  beforeAll(async () => {
    await waitForQueueSettled(relay("relay-a")); // a lab older than 300 s retries deferred mail
    entries = await postqueueJson(relay("relay-a"));
  });

  it("has the expected messages per queue", () => {
    const byQueue: Record<string, number> = {};
    for (const e of entries) byQueue[e.queue_name] = (byQueue[e.queue_name] ?? 0) + 1;
    expect(byQueue).toEqual({ deferred: 171, hold: 10 });
    expect(entries).toHaveLength(scenario.messages);
  });

  it("has the expected recipients per domain", () => {
    expect(recipientsByDomain(entries)).toEqual({
      [LAB_DOMAINS.refused]: 121,
      [LAB_DOMAINS.throttle]: 31,
      [LAB_DOMAINS.dnsfail]: 21,
      [LAB_DOMAINS.hold]: 10,
    });
    expect(recipientsByDomain(entries, "hold")).toEqual({ [LAB_DOMAINS.hold]: 10 });
    const refused = entries
      .flatMap((e) => e.recipients.map((r) => r.address))
      .filter((a) => /^user\d+@refused/.test(a));
    expect(new Set(refused).size).toBe(120);
  });

  it("holds exactly the messages the scenario put on hold", () => {
    const held = entries.filter((e) => e.queue_name === "hold").map((e) => e.queue_id);
    expect(held.sort()).toEqual([...scenario.heldQueueIds].sort());
  });

  it("has one message with three recipients in three domains", () => {
    const multi = entries.filter((e) => e.recipients.length > 1);
    expect(multi).toHaveLength(1);
    expect(multi[0]?.queue_id).toBe(scenario.multiRecipient.queueId);
    expect(new Set(multi[0]?.recipients.map((r) => domainOf(r.address))).size).toBe(3);
  });

  it("defers each destination for its own reason", () => {
    const refused = reasonsFor(entries, LAB_DOMAINS.refused);
    const throttle = reasonsFor(entries, LAB_DOMAINS.throttle);
    const dnsfail = reasonsFor(entries, LAB_DOMAINS.dnsfail);
    expect(refused).toHaveLength(121);
    for (const r of refused)
      expect(r).toContain(`127.0.0.1[127.0.0.1]:${lab.refusedPort}: Connection refused`);
    expect(throttle).toHaveLength(31);
    for (const r of throttle)
      expect(r).toMatch(/said: 451 4\.7\.1 Try again later \(in reply to RCPT TO command\)/);
    expect(dnsfail).toHaveLength(21);
    for (const r of dnsfail)
      expect(r).toContain(
        "Host or domain name not found. Name service error for name=dnsfail.lab.test type=MX: Host not found, try again",
      );
  });

  it("logs to its own maillog_file", async () => {
    const log = await readFile(relay("relay-a").maillogPath, "utf8");
    expect(log).toMatch(/postfix\/master\[\d+\]: daemon started -- version [\d.]+, configuration /);
    expect(log).toContain(relay("relay-a").configDir);
    expect(log).toContain(`${scenario.multiRecipient.queueId}: to=<ops@${LAB_DOMAINS.throttle}>`);
    expect(log).toMatch(/status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 451 4\.7\.1/);
    expect(log).toContain(": placed on hold");
  });
});

describe("relay-b", () => {
  it("is a separate instance with 5 throttled messages", async () => {
    await waitForQueueSettled(relay("relay-b"));
    const entries = await postqueueJson(relay("relay-b"));
    expect(entries).toHaveLength(5);
    for (const e of entries) {
      expect(e.queue_name).toBe("deferred");
      expect(e.recipients[0]?.delay_reason).toContain("451 4.7.1");
    }
    const b = await labExec(relay("relay-b"), ["postconf", "-h", "queue_directory"]);
    expect(b.stdout.trim()).toBe(relay("relay-b").queueDirectory);
    expect(relay("relay-b").queueDirectory).not.toBe(relay("relay-a").queueDirectory);
  });
});

describe("ssh", () => {
  it.each(["relay-a", "relay-b"])("runs commands on %s's instance (SetEnv MAIL_CONFIG)", async (name) => {
    const r = await ssh(relay(name), "root", "postconf -h queue_directory");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(relay(name).queueDirectory);
  });

  it("serves the host key whose fingerprint the lab reports", async () => {
    const r = relay("relay-a");
    const scan = await run(["ssh-keyscan", "-t", "ed25519", "-p", String(r.port), "127.0.0.1"]);
    const fp = await run(["ssh-keygen", "-lf", "-"], { stdin: scan.stdout });
    expect(fp.stdout.split(/\s+/)[1]).toBe(r.hostKeyFingerprint);
    expect(r.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it("refuses a host it does not know (strict host key checking is real)", async () => {
    const r = await ssh(relay("relay-a"), "root", "true", "/dev/null");
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Host key verification failed/);
  });

  it("lets the non-root user run postqueue through sudo -n, against the same instance", async () => {
    const r = relay("relay-a");
    const id = await ssh(r, r.sudoUsername, "id -u");
    expect(id.stdout.trim()).not.toBe("0");
    const viaSudo = await ssh(r, r.sudoUsername, "sudo -n postqueue -j");
    expect(viaSudo.code).toBe(0);
    const ids = viaSudo.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as QueueEntry).queue_id);
    const local = (await postqueueJson(r)).map((e) => e.queue_id);
    expect(ids.sort()).toEqual(local.sort());
  });

  it("gives the non-root user no other root commands", async () => {
    const r = relay("relay-a");
    const denied = await ssh(r, r.sudoUsername, "sudo -n /usr/bin/id -u");
    expect(denied.code).not.toBe(0);
    expect(denied.stdout.trim()).not.toBe("0");
  });
});

describe("lab resolver", () => {
  const dig = (type: string, name: string) =>
    run(["dig", "@127.0.0.1", "-p", "53", "+tries=1", "+time=2", type, name]);

  it("answers SERVFAIL for dnsfail.lab.test, quickly", async () => {
    const t0 = performance.now();
    const r = await dig("MX", LAB_DOMAINS.dnsfail);
    // An answer, not dig giving up after its +time=2.
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r.stdout).toMatch(/status: SERVFAIL/);
  });

  it("serves lab names and nothing from outside", async () => {
    expect((await run(["dig", "@127.0.0.1", "+short", "A", "mx.ok.lab.test"])).stdout.trim()).toBe(
      "127.0.0.1",
    );
    expect((await dig("A", "example.com")).stdout).toMatch(/status: NXDOMAIN/);
    expect((await dig("MX", "gmail.com")).stdout).toMatch(/status: NXDOMAIN/);
  });

  it("serves the test blocklist, the PTR cases, and a zone that never answers", async () => {
    const short = async (type: string, name: string) =>
      (await run(["dig", "@127.0.0.1", "+short", "+tries=1", "+time=2", type, name])).stdout.trim();
    expect(await short("A", "1.0.0.127.bl.lab.test")).toBe("127.0.0.2");
    expect((await dig("A", "10.0.0.127.bl.lab.test")).stdout).toMatch(/status: NXDOMAIN/);
    expect(await short("PTR", "10.0.0.127.in-addr.arpa")).toBe("mail.ptr.lab.test.");
    expect(await short("A", "mail.ptr.lab.test")).toBe("127.0.0.10");
    expect((await dig("PTR", "11.0.0.127.in-addr.arpa")).stdout).toMatch(/status: NXDOMAIN/);
    expect(await short("PTR", "12.0.0.127.in-addr.arpa")).toBe("ghost.ptr.lab.test.");
    expect((await dig("A", "ghost.ptr.lab.test")).stdout).toMatch(/status: NXDOMAIN/);
    const slow = await dig("A", "1.0.0.127.slow.bl.lab.test");
    expect(`${slow.stdout}${slow.stderr}`).toMatch(/timed out|no servers could be reached/);
  });
});

describe("a second lab", () => {
  let second: Lab | undefined;
  afterAll(async () => {
    await second?.stop();
  });

  it("delivers, settles and stops without leaving anything running", async () => {
    second = await startLab({ relays: ["scratch"] });
    const [r] = second.relays;
    if (!r) throw new Error("no relay");
    const ids = await sendMail(
      r,
      { from: "app@billing.example.internal", to: [`x@${LAB_DOMAINS.throttle}`] },
      3,
    );
    expect(ids).toHaveLength(3);
    await waitForQueueSettled(r);
    const entries = await postqueueJson(r);
    expect(entries.map((e) => e.queue_id).sort()).toEqual([...ids].sort());
    for (const e of entries) expect(e.recipients[0]?.delay_reason).toContain("451 4.7.1");

    const procs = await labProcesses(second.root);
    expect(procs.map((p) => p.what).sort()).toEqual([
      "scratch postfix master",
      "scratch sshd",
      "servers.ts helper",
    ]);
    expect((await scanLabProcesses(second.root)).length).toBeGreaterThan(3);

    await second.stop();
    await second.stop(); // idempotent
    for (const p of procs) expect(await stillRunning(p), p.what).toBe(false);
    expect(await scanLabProcesses(second.root)).toEqual([]);
    // It shared the resolver with the global lab, which still uses it.
    expect(await labDnsmasqPid()).not.toBeNull();
    const users = await dnsUsers();
    expect(users).toContain(lab.root);
    expect(users).not.toContain(second.root);
    await expect(access(join(second.root, "lab.json"))).rejects.toThrow();
  });
});
