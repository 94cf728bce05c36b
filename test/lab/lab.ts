/**
 * The relay lab: real Postfix instances on 127.0.0.1, each reachable over its own sshd, with
 * destinations that fail in the ways a stuck queue fails in production (connection refused,
 * 451 throttling, 450 greylisting, DNS SERVFAIL) and a local-only resolver, so nothing leaves the machine.
 *
 * Needs root and the packages from test/lab/install.sh. Layout of a lab root:
 *   client_ed25519{,.pub} authorized_keys known_hosts lab.json mailq.yaml mailq-sudo.yaml
 *   servers.pid servers.log            the throttle + greylist SMTP helper (servers.ts)
 *   <relay>/config/{main.cf,master.cf,transport}   MAIL_CONFIG of the instance
 *   <relay>/queue/                     queue_directory, also the chroot of smtp/smtpd/…
 *   <relay>/data/ <relay>/maillog      data_directory, maillog_file
 *   <relay>/ssh/{sshd_config,ssh_host_ed25519_key,sshd.pid,sshd.log}
 */

import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { closeSync, existsSync, openSync } from "node:fs";
import {
  chmod,
  chown,
  copyFile,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type OutgoingMessage, sendMessages } from "./smtp-client.js";
import {
  canBind,
  canConnect,
  childrenOf,
  countFiles,
  type ExecResult,
  isAlive,
  procComm,
  readPid,
  run,
  runOk,
  terminate,
  waitFor,
  withFileLock,
} from "./sys.js";

export type { OutgoingMessage } from "./smtp-client.js";

export interface LabRelay {
  name: string;
  host: "127.0.0.1";
  /** sshd port */
  port: number;
  username: string;
  privateKeyPath: string;
  /** "SHA256:..." exactly as `ssh-keygen -lf` prints it */
  hostKeyFingerprint: string;
  /** Postfix config directory: the value for MAIL_CONFIG */
  configDir: string;
  queueDirectory: string;
  /** the instance's smtpd on 127.0.0.1 */
  smtpPort: number;
  maillogPath: string;
  /** non-root user whose Postfix commands need `sudo -n` */
  sudoUsername: string;
  /** non-root user whose key only runs what deploy/relay/mailq-bot-gate allows (sudo: true) */
  gateUsername: string;
  /** where this relay's gate logs what it allowed and refused */
  gateLogPath: string;
  /** this relay's gate state: the queue IDs it served whole (postcat -q), one file each */
  gateStatePath: string;
}

export interface Lab {
  root: string;
  relays: LabRelay[];
  dnsPort: 53;
  throttlePort: number;
  greylistPort: number;
  /** The receiver that refuses with 5.7.26 (DMARC) and 550 5.1.1: policy.lab.test */
  policyPort: number;
  refusedPort: number;
  /** OpenSSH known_hosts with every relay's host key ("[127.0.0.1]:port ssh-ed25519 …") */
  knownHostsPath: string;
  /** bot config listing the relays (username root) */
  mailqConfigPath: string;
  stop(): Promise<void>;
}

/** A Lab without its functions: what lab.json holds and what vitest provides to tests. */
export type LabData = Omit<Lab, "stop">;

export interface ScenarioSummary {
  messages: number;
  recipients: number;
  /** Recipients per domain, the multi-recipient message included. */
  recipientsByDomain: Record<string, number>;
  /** Messages whose recipients are all in one domain, per domain. */
  messagesByDomain: Record<string, number>;
  /** Queue IDs of single-domain messages, per domain (held ones under hold.lab.test). */
  queueIdsByDomain: Record<string, string[]>;
  multiRecipient: { queueId: string; recipients: string[] };
  heldQueueIds: string[];
  /** Messages expected in each queue once settled. */
  byQueue: { deferred: number; hold: number };
  senders: string[];
  settleMs: number;
}

export const LAB_DOMAINS = {
  refused: "refused.lab.test",
  throttle: "throttle.lab.test",
  dnsfail: "dnsfail.lab.test",
  hold: "hold.lab.test",
  greylist: "greylist.lab.test",
  policy: "policy.lab.test",
} as const;

export const SUDO_USER = "mailqlab";
/** The bot's production shape: its key forced through deploy/relay/mailq-bot-gate, sudoers from render-sudoers. */
export const GATE_USER = "mailqgate";
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const DEFAULT_LAB_BASE = "/var/lib/mailq-lab";
export const RUN_DIR = "/run/mailq-lab";
const DNS_PID = join(RUN_DIR, "dnsmasq.pid");
const DNS_HELPER_PID = join(RUN_DIR, "servfail.pid");
const DNS_USERS = join(RUN_DIR, "dns-users"); // one file per lab using the resolver
const DNS_LOCK = join(RUN_DIR, "dns.lock");
const CONFIG_DIRS = join(RUN_DIR, "config-dirs"); // one file per lab instance's config dir
const DNS_LOG = join(RUN_DIR, "dnsmasq.log");
export const SUDOERS_FILE = "/etc/sudoers.d/mailq-lab"; // no "." in the name: sudo would skip it
const MARKER = ".mailq-lab";
const HERE = dirname(fileURLToPath(import.meta.url));
const RELAY_NAME_RE = /^[a-z0-9][a-z0-9-]{0,30}$/;

/**
 * Extra A records (and their PTRs) the lab resolver serves (everything else: NXDOMAIN,
 * dnsfail: SERVFAIL). The 127.0.0.1x addresses are the reverse-DNS cases triage checks:
 * .10 matches mail.ptr.lab.test both ways, .11 has no PTR, .12's PTR name has no address,
 * .13's PTR is another name, and 127.0.0.1 (every lab relay) has PTR mx.ok.lab.test.
 */
const DNS_HOSTS: Record<string, string> = {
  "mx.ok.lab.test": "127.0.0.1",
  "mail.ptr.lab.test": "127.0.0.10",
  "other.ptr.lab.test": "127.0.0.13",
};
export const LAB_RDNS = {
  match: { ip: "127.0.0.10", name: "mail.ptr.lab.test" },
  missing: { ip: "127.0.0.11" },
  unconfirmed: { ip: "127.0.0.12", name: "ghost.ptr.lab.test" },
  mismatch: { ip: "127.0.0.13", name: "other.ptr.lab.test" },
} as const;
/**
 * A test DNS blocklist: 127.0.0.1 (the lab relays' address) is listed with 127.0.0.2, any
 * other address is not; slow.bl.lab.test never answers (a zone that times out).
 */
export const LAB_BLOCKLIST = {
  zone: "bl.lab.test",
  listed: "127.0.0.1",
  slowZone: "slow.bl.lab.test",
} as const;

const SENDERS = [
  "app@billing.example.internal",
  "noreply@shop.example.internal",
  "alerts@monitoring.example.internal",
  "newsletter@news.lab.test",
];

// ---------------------------------------------------------------------------------------------
// Public API

export async function startLab(opts: { root?: string; relays?: string[] } = {}): Promise<Lab> {
  await checkPrerequisites();
  const root = resolve(opts.root ?? join(DEFAULT_LAB_BASE, randomBytes(4).toString("hex")));
  const names = opts.relays ?? ["relay-a", "relay-b"];
  for (const n of names) if (!RELAY_NAME_RE.test(n)) throw new Error(`bad relay name "${n}"`);
  if (new Set(names).size !== names.length) throw new Error("duplicate relay names");

  if (existsSync(root) && (await readdir(root)).length > 0) {
    throw new Error(
      existsSync(join(root, MARKER))
        ? `a lab already exists at ${root}: stop it first (npx tsx test/lab/cli.ts down --root ${root})`
        : `${root} exists and is not empty; refusing to use it as a lab root`,
    );
  }
  // sshd reads authorized_keys as mailqlab and Postfix's daemons run as postfix: keep paths traversable.
  if (root.startsWith(`${DEFAULT_LAB_BASE}/`)) await mkdirMode(DEFAULT_LAB_BASE, 0o755);
  await mkdirMode(root, 0o755);
  await writeFile(join(root, MARKER), `mailq-bot relay lab, started ${new Date().toISOString()}\n`);

  const lab: Lab = {
    root,
    relays: [],
    dnsPort: 53,
    throttlePort: 0,
    greylistPort: 0,
    policyPort: 0,
    refusedPort: 0,
    knownHostsPath: join(root, "known_hosts"),
    mailqConfigPath: join(root, "mailq.yaml"),
    stop: () => stopLabAt(root),
  };
  try {
    const keyPath = join(root, "client_ed25519");
    await runOk(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mailq-lab-client", "-f", keyPath]);
    const pub = await readFile(`${keyPath}.pub`, "utf8");
    await writeFile(join(root, "authorized_keys"), pub);
    await chmod(join(root, "authorized_keys"), 0o644);
    await ensureSudoUser();
    await setUpGate(root);

    await acquireDns(root);
    const smtp = await startHelper("throttle", root, join(root, "servers.pid"), join(root, "servers.log"));
    lab.throttlePort = smtp.port;
    lab.greylistPort = smtp.greylistPort ?? 0;
    lab.policyPort = smtp.policyPort ?? 0;
    lab.refusedPort = await allocPort(root);

    lab.relays = await Promise.all(names.map((n) => createRelay(lab, n)));
    await writeLabFiles(lab);
    return lab;
  } catch (e) {
    await stopLabAt(root).catch(() => {});
    throw e;
  }
}

/** Adds another independent relay instance to a running lab. */
export async function startRelay(
  lab: Lab | LabData,
  name: string,
  opts: RelayOptions = {},
): Promise<LabRelay> {
  if (!RELAY_NAME_RE.test(name)) throw new Error(`bad relay name "${name}"`);
  if (lab.relays.some((r) => r.name === name)) throw new Error(`relay "${name}" already exists`);
  const relay = await createRelay(lab, name, opts);
  lab.relays.push(relay);
  await writeLabFiles(lab);
  return relay;
}

/** Sends `count` copies of msg to the relay's smtpd; returns their queue IDs. */
export async function sendMail(relay: LabRelay, msg: OutgoingMessage, count = 1): Promise<string[]> {
  return sendMessages(
    relay.smtpPort,
    Array.from({ length: count }, () => msg),
    8,
  );
}

export function labEnv(relay: LabRelay): NodeJS.ProcessEnv {
  return { ...process.env, MAIL_CONFIG: relay.configDir };
}

/** Runs argv locally (no shell) against the relay's instance (MAIL_CONFIG set). */
export function labExec(relay: LabRelay, argv: string[], stdin?: string): Promise<ExecResult> {
  return run(argv, { env: labEnv(relay), stdin });
}

export interface QueueEntry {
  queue_name: string;
  queue_id: string;
  arrival_time: number;
  message_size: number;
  forced_expire?: boolean;
  sender: string;
  recipients: { address: string; delay_reason?: string }[];
}

/** `postqueue -j`, parsed. */
export async function postqueueJson(relay: LabRelay): Promise<QueueEntry[]> {
  const r = await labExec(relay, ["postqueue", "-j"]);
  if (r.code !== 0) throw new Error(`postqueue -j failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as QueueEntry);
}

/** Waits until maildrop, incoming and active are empty and every deferred recipient has a reason. */
export async function waitForQueueSettled(relay: LabRelay, timeoutMs = 30_000): Promise<void> {
  const q = relay.queueDirectory;
  await waitFor(
    `the queue of ${relay.name} to settle`,
    async () => {
      for (const sub of ["maildrop", "incoming", "active"])
        if ((await countFiles(join(q, sub))) > 0) return false;
      const entries = await postqueueJson(relay);
      return entries.every(
        (e) =>
          e.queue_name !== "active" &&
          e.queue_name !== "incoming" &&
          e.queue_name !== "maildrop" &&
          (e.queue_name !== "deferred" || e.recipients.every((r) => !!r.delay_reason)),
      );
    },
    timeoutMs,
    100,
  );
}

/**
 * Fills the relay with the standard stuck-queue picture and waits until it has settled:
 * 120 messages to distinct user<N>@refused.lab.test, 30 to throttle.lab.test, 20 to
 * dnsfail.lab.test, one message to 3 recipients in 3 domains, and 10 to hold.lab.test which are
 * then put on hold (`postsuper -h -`).
 */
export async function fillStandardScenario(relay: LabRelay): Promise<ScenarioSummary> {
  const started = Date.now();
  const plan: { domain: string; count: number }[] = [
    { domain: LAB_DOMAINS.refused, count: 120 },
    { domain: LAB_DOMAINS.throttle, count: 30 },
    { domain: LAB_DOMAINS.dnsfail, count: 20 },
    { domain: LAB_DOMAINS.hold, count: 10 },
  ];
  const messages: OutgoingMessage[] = [];
  const domainOf: string[] = [];
  let n = 0;
  for (const { domain, count } of plan) {
    for (let i = 1; i <= count; i++) {
      const from = SENDERS[n++ % SENDERS.length] ?? "app@billing.example.internal";
      messages.push({
        from,
        to: [`user${i}@${domain}`],
        subject: `${domain.split(".")[0]} #${i}`,
        headers: { "X-Lab-Scenario": "standard" },
      });
      domainOf.push(domain);
    }
  }
  const multi = [`ops@${LAB_DOMAINS.refused}`, `ops@${LAB_DOMAINS.throttle}`, `ops@${LAB_DOMAINS.dnsfail}`];
  messages.push({ from: "reports@billing.example.internal", to: multi, subject: "weekly report" });
  domainOf.push("*");

  const ids = await sendMessages(relay.smtpPort, messages, 16);
  await waitForQueueSettled(relay);

  const queueIdsByDomain: Record<string, string[]> = {};
  ids.forEach((id, i) => {
    const d = domainOf[i];
    if (d && d !== "*") queueIdsByDomain[d] = [...(queueIdsByDomain[d] ?? []), id];
  });
  const held = queueIdsByDomain[LAB_DOMAINS.hold] ?? [];
  const r = await labExec(relay, ["postsuper", "-h", "-"], `${held.join("\n")}\n`);
  if (r.code !== 0) throw new Error(`postsuper -h failed: ${r.stderr.trim()}`);
  const inHold = new Set(
    (await postqueueJson(relay)).filter((e) => e.queue_name === "hold").map((e) => e.queue_id),
  );
  const notHeld = held.filter((id) => !inHold.has(id));
  if (notHeld.length > 0) throw new Error(`postsuper -h did not hold ${notHeld.join(", ")}`);

  const recipientsByDomain: Record<string, number> = {};
  for (const m of messages)
    for (const rcpt of m.to) {
      const d = rcpt.slice(rcpt.indexOf("@") + 1);
      recipientsByDomain[d] = (recipientsByDomain[d] ?? 0) + 1;
    }
  return {
    messages: messages.length,
    recipients: messages.reduce((a, m) => a + m.to.length, 0),
    recipientsByDomain,
    messagesByDomain: Object.fromEntries(plan.map((p) => [p.domain, p.count])),
    queueIdsByDomain,
    multiRecipient: { queueId: ids[ids.length - 1] ?? "", recipients: multi },
    heldQueueIds: held,
    byQueue: { deferred: messages.length - held.length, hold: held.length },
    senders: [...new Set(messages.map((m) => m.from))],
    settleMs: Date.now() - started,
  };
}

/** Stops whatever a lab at `root` runs and removes the root. Idempotent. */
export async function stopLabAt(root: string): Promise<void> {
  root = resolve(root);
  if (!existsSync(root)) return;
  if (!existsSync(join(root, MARKER))) throw new Error(`${root} is not a relay lab root (no ${MARKER})`);
  const relayDirs = (await readdir(root, { withFileTypes: true }))
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, "config", "main.cf")))
    .map((d) => join(root, d.name));
  await Promise.all(relayDirs.map(stopRelayDir));

  const helper = await readPid(join(root, "servers.pid"));
  if (helper && (await procComm(helper)) === "node") await terminate(helper);
  await releaseDns(root);
  await releasePorts(root);
  await rm(root, { recursive: true, force: true, maxRetries: 3 });
}

/** Reads lab.json of a running lab. */
export async function readLabData(root: string): Promise<LabData> {
  return JSON.parse(await readFile(join(resolve(root), "lab.json"), "utf8")) as LabData;
}

/** The roots of the live labs registered as users of the shared resolver. */
export async function dnsUsers(): Promise<string[]> {
  const roots: string[] = [];
  for (const f of await readdir(DNS_USERS).catch(() => [] as string[])) {
    const root = (await readFile(join(DNS_USERS, f), "utf8").catch(() => "")).trim();
    if (root && existsSync(join(root, MARKER))) roots.push(root);
  }
  return roots;
}

/** dnsmasq's pid if the lab resolver is running. */
export async function labDnsmasqPid(): Promise<number | null> {
  const pid = await readPid(DNS_PID);
  return pid && isAlive(pid) && (await procComm(pid)) === "dnsmasq" ? pid : null;
}

export interface LabProcess {
  what: string;
  pid: number;
  comm: string;
}

/** The lab's own long-running processes, from their pid files (not the shared resolver). */
export async function labProcesses(root: string): Promise<LabProcess[]> {
  root = resolve(root);
  const found: LabProcess[] = [];
  const add = async (what: string, pidFile: string) => {
    const pid = await readPid(pidFile);
    const comm = pid && isAlive(pid) ? await procComm(pid) : null;
    if (pid && comm) found.push({ what, pid, comm });
  };
  if (!existsSync(root)) return found;
  for (const d of await readdir(root, { withFileTypes: true })) {
    if (!d.isDirectory() || !existsSync(join(root, d.name, "config", "main.cf"))) continue;
    await add(`${d.name} postfix master`, join(root, d.name, "queue", "pid", "master.pid"));
    await add(`${d.name} sshd`, join(root, d.name, "ssh", "sshd.pid"));
  }
  await add("servers.ts helper", join(root, "servers.pid"));
  return found;
}

/** True if a process from labProcesses() still runs (same pid, same command name, not a zombie). */
export async function stillRunning(p: LabProcess): Promise<boolean> {
  return isAlive(p.pid) && (await procComm(p.pid)) === p.comm;
}

/**
 * Every live process that belongs to the lab at root, found by scanning /proc independently of
 * pid files: its command line mentions the root, or its environment has MAIL_CONFIG below it
 * (every Postfix daemon of an instance inherits that).
 */
export async function scanLabProcesses(root: string): Promise<{ pid: number; comm: string }[]> {
  root = resolve(root);
  const found: { pid: number; comm: string }[] = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    const pid = Number(d);
    try {
      const cmdline = (await readFile(`/proc/${d}/cmdline`, "utf8")).split("\0");
      const environ = (await readFile(`/proc/${d}/environ`, "utf8")).split("\0");
      const mine =
        cmdline.some((a) => a.includes(`${root}/`) || a === root) ||
        environ.some((e) => e.startsWith(`MAIL_CONFIG=${root}/`));
      if (mine && isAlive(pid)) found.push({ pid, comm: (await procComm(pid)) ?? "?" });
    } catch {
      // exited meanwhile, or a kernel thread
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Prerequisites, users

async function checkPrerequisites(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the relay lab must run as root");
  const missing = [
    "/usr/sbin/postfix",
    "/usr/sbin/sshd",
    "/usr/sbin/dnsmasq",
    "/usr/bin/ssh-keygen",
    "/usr/bin/ssh",
    "/usr/sbin/visudo",
    "/usr/bin/sudo",
  ].filter((p) => !existsSync(p));
  if (missing.length > 0)
    throw new Error(`relay lab: missing ${missing.join(", ")}; run: sudo bash test/lab/install.sh`);
}

function sudoersContent(): string {
  const cmds = [
    "/usr/sbin/postqueue",
    "/usr/sbin/postsuper",
    "/usr/sbin/postcat",
    "/usr/sbin/postconf",
    "/usr/sbin/postfix",
    "/usr/bin/find",
    "/usr/bin/df",
    "/usr/bin/tail",
    "/usr/bin/journalctl",
    "/usr/bin/cat",
    "/bin/cat",
    "/usr/bin/ps",
    "/bin/df",
    "/bin/ps",
  ];
  return [
    "# Written by mailq-bot's relay lab (test/lab/lab.ts): the non-root probe user.",
    `Defaults:${SUDO_USER} env_keep += "MAIL_CONFIG"`,
    `Cmnd_Alias MAILQ_LAB_CMDS = ${cmds.join(", ")}`,
    `${SUDO_USER} ALL=(root) NOPASSWD: MAILQ_LAB_CMDS`,
    "",
  ].join("\n");
}

/** Creates the non-root user and its sudoers drop-in, once. */
async function ensureSudoUser(): Promise<void> {
  if ((await run(["id", "-u", SUDO_USER])).code !== 0) {
    const r = await run([
      "useradd",
      "--create-home",
      "--shell",
      "/bin/bash",
      "--comment",
      "mailq-bot relay lab",
      SUDO_USER,
    ]);
    if (r.code !== 0 && (await run(["id", "-u", SUDO_USER])).code !== 0)
      throw new Error(`useradd ${SUDO_USER}: ${r.stderr.trim()}`);
  }
  // A "!" (locked) password makes sshd (UsePAM no) refuse even key logins; "*" is "no password".
  const shadow = await readFile("/etc/shadow", "utf8");
  const entry = shadow.split("\n").find((l) => l.startsWith(`${SUDO_USER}:`));
  if (entry?.split(":")[1]?.startsWith("!")) await runOk(["usermod", "-p", "*", SUDO_USER]);

  const want = sudoersContent();
  if ((await readFile(SUDOERS_FILE, "utf8").catch(() => "")) === want) return;
  await mkdir(RUN_DIR, { recursive: true });
  const tmp = join(RUN_DIR, `sudoers.${process.pid}`);
  await writeFile(tmp, want, { mode: 0o440 });
  try {
    await runOk(["visudo", "-cf", tmp]);
    await copyFile(tmp, SUDOERS_FILE);
    await chmod(SUDOERS_FILE, 0o440);
  } finally {
    await rm(tmp, { force: true });
  }
}

const gateSudoersFile = (configDir: string) =>
  `/etc/sudoers.d/mailq-gate-${createHash("sha256").update(configDir).digest("hex").slice(0, 12)}`;

/** The gate user, and the gate itself (deploy/relay/mailq-bot-gate), once per lab. */
async function setUpGate(root: string): Promise<void> {
  await withFileLock(DNS_LOCK, async () => {
    if ((await run(["id", "-u", GATE_USER])).code !== 0) {
      const r = await run([
        "useradd",
        "--create-home",
        "--shell",
        "/bin/sh",
        "--comment",
        "mailq-bot lab gate",
        GATE_USER,
      ]);
      if (r.code !== 0 && (await run(["id", "-u", GATE_USER])).code !== 0)
        throw new Error(`useradd ${GATE_USER}: ${r.stderr.trim()}`);
    }
    const entry = (await readFile("/etc/shadow", "utf8"))
      .split("\n")
      .find((l) => l.startsWith(`${GATE_USER}:`));
    if (entry?.split(":")[1]?.startsWith("!")) await runOk(["usermod", "-p", "*", GATE_USER]);
  });
  const gate = join(root, "mailq-bot-gate");
  await copyFile(join(REPO, "deploy/relay/mailq-bot-gate"), gate);
  await chmod(gate, 0o755);
}

/**
 * One relay's gate configuration, as deploy/RUNBOOK.md tells operators: its own log, its own
 * root-owned state directory (what was served whole, for archive-before-delete), its Postfix
 * instance, and the key in `restrict,command=` form.
 */
async function setUpRelayGate(lab: Lab | LabData, relay: LabRelay, sshDir: string): Promise<string> {
  const uid = Number((await runOk(["id", "-u", GATE_USER])).stdout.trim());
  const gid = Number((await runOk(["id", "-g", GATE_USER])).stdout.trim());
  await writeFile(relay.gateLogPath, "");
  await chown(relay.gateLogPath, uid, 0);
  await mkdirMode(relay.gateStatePath, 0o770);
  await chown(relay.gateStatePath, 0, gid);
  const pub = (await readFile(join(lab.root, "client_ed25519.pub"), "utf8")).trim();
  const command = [
    join(lab.root, "mailq-bot-gate"),
    "--log",
    relay.gateLogPath,
    "--state",
    relay.gateStatePath,
    "--mail-config",
    relay.configDir,
  ].join(" ");
  const keys = join(sshDir, "gate_authorized_keys");
  await writeFile(keys, `restrict,command="${command}" ${pub}\n`);
  await chmod(keys, 0o644);
  return keys;
}

/** sudoers for the gate user, rendered for this instance by deploy/relay/render-sudoers. */
async function installGateSudoers(relay: LabRelay): Promise<void> {
  const rendered = await runOk([
    "sh",
    join(REPO, "deploy/relay/render-sudoers"),
    GATE_USER,
    relay.queueDirectory,
    relay.maillogPath,
    `LAB_${createHash("sha256").update(relay.configDir).digest("hex").slice(0, 12).toUpperCase()}`,
  ]);
  // The lab's only addition: MAIL_CONFIG selects this relay's instance.
  const content = `${rendered.stdout}Defaults:${GATE_USER} env_keep += "MAIL_CONFIG"\n`;
  const tmp = join(RUN_DIR, `gate-sudoers.${process.pid}.${relay.name}`);
  await mkdir(RUN_DIR, { recursive: true });
  await writeFile(tmp, content, { mode: 0o440 });
  try {
    await runOk(["visudo", "-cf", tmp]);
    await copyFile(tmp, gateSudoersFile(relay.configDir));
    await chmod(gateSudoersFile(relay.configDir), 0o440);
  } finally {
    await rm(tmp, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Ports, helper process, DNS

/**
 * A port for a lab daemon, claimed across processes: vitest workers start relays side by side,
 * and two of them asking the kernel for "a free port" can be handed the same one before either
 * binds it. Ports come from below the ephemeral range (outgoing connections never take them), and
 * each is claimed with an exclusive file naming the lab; a claim whose lab is gone is stale.
 */
const PORTS_DIR = join(RUN_DIR, "ports");
const LAB_PORTS = { from: 20_000, to: 32_000 };
async function releasePorts(root: string): Promise<void> {
  for (const f of await readdir(PORTS_DIR).catch(() => [] as string[])) {
    const claim = join(PORTS_DIR, f);
    if ((await readFile(claim, "utf8").catch(() => "")).trim() === root) await rm(claim, { force: true });
  }
}

/** A loopback port for a test's own server beside a lab, claimed like the lab's (released with it). */
export function labPort(lab: Pick<LabData, "root">): Promise<number> {
  return allocPort(lab.root);
}

async function allocPort(root: string): Promise<number> {
  await mkdir(PORTS_DIR, { recursive: true });
  for (let tries = 0; tries < 1000; tries++) {
    const p = LAB_PORTS.from + Math.floor(Math.random() * (LAB_PORTS.to - LAB_PORTS.from));
    const claim = join(PORTS_DIR, String(p));
    const owner = (await readFile(claim, "utf8").catch(() => "")).trim();
    if (owner && existsSync(owner)) continue;
    if (owner) await rm(claim, { force: true });
    try {
      await writeFile(claim, `${root}\n`, { flag: "wx" });
    } catch {
      continue; // another process claimed it just now
    }
    if (await canBind(p)) return p;
  }
  throw new Error(`relay lab: no free port in ${LAB_PORTS.from}-${LAB_PORTS.to} after 1000 tries`);
}

/** Starts servers.ts detached; returns the port(s) it listens on. */
async function startHelper(
  mode: "throttle" | "servfail",
  arg: string,
  pidFile: string,
  logFile: string,
): Promise<{ port: number; greylistPort?: number; policyPort?: number; blackholePort?: number }> {
  const loader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const errFd = openSync(logFile, "a");
  const child = spawn(process.execPath, ["--import", loader, join(HERE, "servers.ts"), mode, arg], {
    detached: true,
    stdio: ["ignore", "pipe", errFd],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  closeSync(errFd);
  const out = child.stdout;
  if (!out) throw new Error("servers.ts: no stdout pipe");
  try {
    const line = await new Promise<string>((resolveLine, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`servers.ts ${mode} did not start within 20 s`)),
        20_000,
      );
      const rl = createInterface({ input: out });
      rl.once("line", (l) => {
        clearTimeout(timer);
        rl.close();
        resolveLine(l);
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`servers.ts ${mode} exited (${code}); see ${logFile}`));
      });
    });
    if (child.pid) await writeFile(pidFile, `${child.pid}\n`);
    return JSON.parse(line) as {
      port: number;
      greylistPort?: number;
      policyPort?: number;
      blackholePort?: number;
    };
  } finally {
    out.destroy();
    child.unref();
  }
}

/** Runs fn under the lock that guards what labs share (the resolver, users, /etc files). */
export function withLabLock<T>(fn: () => Promise<T>): Promise<T> {
  return withFileLock(DNS_LOCK, fn);
}

const dnsUserFile = (root: string) =>
  join(DNS_USERS, createHash("sha256").update(root).digest("hex").slice(0, 16));

/** Registers the lab as a user of the shared resolver, starting it (or replacing a broken one). */
async function acquireDns(root: string): Promise<void> {
  await withFileLock(DNS_LOCK, async () => {
    await mkdir(DNS_USERS, { recursive: true });
    await writeFile(dnsUserFile(root), `${root}\n`);
    if ((await labDnsmasqPid()) && (await dnsHealthy())) return;
    await stopResolver();
    const servfail = await startHelper("servfail", DNS_PID, DNS_HELPER_PID, join(RUN_DIR, "servfail.log"));
    await startDnsmasq(servfail.port, servfail.blackholePort ?? 0);
    if (!(await dnsHealthy()))
      throw new Error(`lab resolver on 127.0.0.1:53 does not answer SERVFAIL for ${LAB_DOMAINS.dnsfail}`);
  });
}

/** Unregisters the lab; the last lab out stops the resolver. */
async function releaseDns(root: string): Promise<void> {
  await withFileLock(DNS_LOCK, async () => {
    await rm(dnsUserFile(root), { force: true });
    const others = (await dnsUsers()).filter((r) => r !== root);
    if (others.length === 0) await stopResolver();
  });
}

async function stopResolver(): Promise<void> {
  const pid = await labDnsmasqPid();
  if (pid) await terminate(pid);
  const helper = await readPid(DNS_HELPER_PID);
  if (helper && (await procComm(helper)) === "node") await terminate(helper);
  await rm(DNS_PID, { force: true });
  await rm(DNS_HELPER_PID, { force: true });
}

async function startDnsmasq(servfailPort: number, blackholePort: number): Promise<void> {
  const args = [
    "--conf-file=/dev/null",
    `--pid-file=${DNS_PID}`,
    "--port=53",
    "--listen-address=127.0.0.1",
    "--bind-interfaces",
    "--no-resolv", // no upstream from /etc/resolv.conf…
    "--no-poll",
    "--no-hosts", // …nor /etc/hosts
    "--user=root", // keeps the log file writable; it only ever binds 127.0.0.1
    `--log-facility=${DNS_LOG}`,
    "--log-queries",
    `--server=/${LAB_DOMAINS.dnsfail}/127.0.0.1#${servfailPort}`, // answers SERVFAIL
    `--server=/${LAB_BLOCKLIST.slowZone}/127.0.0.1#${blackholePort}`, // never answers
    `--address=/${LAB_BLOCKLIST.listed.split(".").reverse().join(".")}.${LAB_BLOCKLIST.zone}/127.0.0.2`,
    `--ptr-record=${LAB_RDNS.unconfirmed.ip.split(".").reverse().join(".")}.in-addr.arpa,${LAB_RDNS.unconfirmed.name}`,
    "--address=/#/", // every other name: NXDOMAIN, answered locally
    ...Object.entries(DNS_HOSTS).map(([name, ip]) => `--host-record=${name},${ip}`),
  ];
  await rm(DNS_LOG, { force: true });
  const r = await run(["/usr/sbin/dnsmasq", ...args]);
  if (r.code !== 0)
    throw new Error(
      `dnsmasq failed (${r.code}): ${r.stderr.trim()}. Is something else listening on 127.0.0.1:53? (ss -lunp 'sport = 53')`,
    );
  await waitFor("dnsmasq to answer", async () => (await dnsQuery("mx.ok.lab.test", 1, 300)) === 0, 10_000);
}

/** Sends one query to 127.0.0.1:53; resolves with the RCODE, or -1 on timeout. */
export function dnsQuery(name: string, qtype: number, timeoutMs = 1000): Promise<number> {
  const labels = name.split(".").filter(Boolean);
  const q = Buffer.alloc(12 + labels.reduce((a, l) => a + l.length + 1, 0) + 5);
  const id = randomBytes(2).readUInt16BE(0);
  q.writeUInt16BE(id, 0);
  q.writeUInt16BE(0x0100, 2); // RD
  q.writeUInt16BE(1, 4);
  let o = 12;
  for (const l of labels) {
    q[o++] = l.length;
    o += q.write(l, o, "ascii");
  }
  q[o++] = 0;
  q.writeUInt16BE(qtype, o);
  q.writeUInt16BE(1, o + 2);
  return new Promise((resolveRcode) => {
    const sock = createSocket("udp4");
    const done = (rcode: number) => {
      clearTimeout(timer);
      sock.close();
      resolveRcode(rcode);
    };
    const timer = setTimeout(() => done(-1), timeoutMs);
    sock.on("error", () => done(-1));
    sock.on("message", (msg) => {
      if (msg.length >= 4 && msg.readUInt16BE(0) === id) done((msg[3] ?? 0) & 0x0f);
    });
    sock.send(q, 53, "127.0.0.1");
  });
}

/** Every kind of record the lab serves answers: a resolver started by older lab code is replaced. */
async function dnsHealthy(): Promise<boolean> {
  const listed = `${LAB_BLOCKLIST.listed.split(".").reverse().join(".")}.${LAB_BLOCKLIST.zone}`;
  const ptr = `${LAB_RDNS.unconfirmed.ip.split(".").reverse().join(".")}.in-addr.arpa`;
  return (
    (await dnsQuery(LAB_DOMAINS.dnsfail, 15, 500)) === 2 &&
    (await dnsQuery("mx.ok.lab.test", 1, 500)) === 0 &&
    (await dnsQuery(listed, 1, 500)) === 0 &&
    (await dnsQuery(ptr, 12, 500)) === 0
  );
}

// ---------------------------------------------------------------------------------------------
// Relays

/** longQueueIds: Postfix's long queue IDs; maxSessions: sshd's MaxSessions (sshd's own default is 10). */
export interface RelayOptions {
  longQueueIds?: boolean;
  maxSessions?: number;
}

async function createRelay(lab: Lab | LabData, name: string, opts: RelayOptions = {}): Promise<LabRelay> {
  const dir = join(lab.root, name);
  const relay: LabRelay = {
    name,
    host: "127.0.0.1",
    port: await allocPort(lab.root),
    username: "root",
    privateKeyPath: join(lab.root, "client_ed25519"),
    hostKeyFingerprint: "",
    configDir: join(dir, "config"),
    queueDirectory: join(dir, "queue"),
    smtpPort: await allocPort(lab.root),
    maillogPath: join(dir, "maillog"),
    sudoUsername: SUDO_USER,
    gateUsername: GATE_USER,
    gateLogPath: join(dir, "gate.log"),
    gateStatePath: join(dir, "gate-state"),
  };
  const dataDir = join(dir, "data");
  for (const d of [dir, relay.configDir, relay.queueDirectory, dataDir, join(dir, "ssh")])
    await mkdirMode(d, 0o755);
  const { uid, gid } = await postfixIds();
  await chown(dataDir, uid, gid);
  await chmod(dataDir, 0o700);

  await writeFile(join(relay.configDir, "main.cf"), mainCf(lab, relay, dataDir, opts));
  await writeFile(join(relay.configDir, "master.cf"), masterCf(relay));
  await writeFile(join(relay.configDir, "transport"), transportMap(lab));
  await populateChroot(relay.queueDirectory);
  await authorizeConfigDir(relay.configDir);
  const started = await run(["/usr/sbin/postfix", "-c", relay.configDir, "start"], { env: labEnv(relay) });
  if (started.code !== 0) {
    // Without a terminal, postfix(1) reports problems only to the maillog.
    const log = await readFile(relay.maillogPath, "utf8").catch(() => "");
    throw new Error(
      `postfix -c ${relay.configDir} start exited ${started.code}: ${started.stderr.trim()}\n${log.split("\n").slice(-15).join("\n")}`,
    );
  }
  await waitFor(`${name} smtpd on :${relay.smtpPort}`, () => canConnect(relay.smtpPort), 15_000);

  relay.hostKeyFingerprint = await startSshd(lab, relay, join(dir, "ssh"), opts.maxSessions ?? 50);
  await installGateSudoers(relay);
  // Whole or not at all: another worker may be rebuilding the lab-wide files from it right now.
  await replaceFile(join(dir, "relay.json"), `${JSON.stringify(relay, null, 2)}\n`);
  return relay;
}

/** mkdir -p, then chmod (so that a restrictive umask does not matter). */
async function mkdirMode(dir: string, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await chmod(dir, mode);
}

let postfixIdsCache: { uid: number; gid: number } | null = null;
async function postfixIds(): Promise<{ uid: number; gid: number }> {
  if (postfixIdsCache) return postfixIdsCache;
  const line = (await readFile("/etc/passwd", "utf8")).split("\n").find((l) => l.startsWith("postfix:"));
  const f = line?.split(":");
  if (!f?.[2] || !f[3]) throw new Error("no postfix user; run test/lab/install.sh");
  postfixIdsCache = { uid: Number(f[2]), gid: Number(f[3]) };
  return postfixIdsCache;
}

function mainCf(
  lab: Lab | LabData,
  relay: LabRelay,
  dataDir: string,
  opts: { longQueueIds?: boolean },
): string {
  return `# Postfix instance "${relay.name}" of the mailq-bot relay lab (generated by test/lab/lab.ts)
compatibility_level = 3.6
myhostname = ${relay.name}.lab.test
mydomain = lab.test
myorigin = $myhostname
queue_directory = ${relay.queueDirectory}
data_directory = ${dataDir}
# No syslog in the lab: postlogd (master.cf) writes this file.
maillog_file = ${relay.maillogPath}
maillog_file_prefixes = /var, /dev/stdout, ${lab.root}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relay_domains = lab.test
transport_maps = texthash:${relay.configDir}/transport
# The chrooted smtp client resolves through <queue_directory>/etc/resolv.conf: the lab dnsmasq.
smtp_host_lookup = dns
smtpd_peername_lookup = no
smtpd_banner = $myhostname ESMTP $mail_name (relay lab)
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:5.1.1 no local delivery in the relay lab
biff = no
append_dot_mydomain = no
readme_directory = no
# Deferred mail is not retried within a test run: a relay's queue changes only when a test
# changes it, so tests that share a relay see the same queue from start to end.
queue_run_delay = 3600s
minimal_backoff_time = 3600s
maximal_backoff_time = 3600s
${opts.longQueueIds ? "enable_long_queue_ids = yes\n" : ""}`;
}

function masterCf(relay: LabRelay): string {
  // Debian's stock services, with smtpd on the instance's own port.
  return `# Postfix master process configuration for lab instance "${relay.name}" (generated by test/lab/lab.ts)
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:${relay.smtpPort} inet n - y - - smtpd
pickup    unix  n       -       y       60      1       pickup
cleanup   unix  n       -       y       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       y       1000?   1       tlsmgr
rewrite   unix  -       -       y       -       -       trivial-rewrite
bounce    unix  -       -       y       -       0       bounce
defer     unix  -       -       y       -       0       bounce
trace     unix  -       -       y       -       0       bounce
verify    unix  -       -       y       -       1       verify
flush     unix  n       -       y       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       y       -       -       smtp
relay     unix  -       -       y       -       -       smtp
        -o syslog_name=postfix/$service_name
showq     unix  n       -       y       -       -       showq
error     unix  -       -       y       -       -       error
retry     unix  -       -       y       -       -       error
discard   unix  -       -       y       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       y       -       -       lmtp
anvil     unix  -       -       y       -       1       anvil
scache    unix  -       -       y       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;
}

function transportMap(lab: Lab | LabData): string {
  // dnsfail.lab.test deliberately has no entry: Postfix looks up its MX and gets SERVFAIL.
  return `${LAB_DOMAINS.refused} smtp:[127.0.0.1]:${lab.refusedPort}
${LAB_DOMAINS.hold} smtp:[127.0.0.1]:${lab.refusedPort}
${LAB_DOMAINS.throttle} smtp:[127.0.0.1]:${lab.throttlePort}
${LAB_DOMAINS.greylist} smtp:[127.0.0.1]:${lab.greylistPort}
${LAB_DOMAINS.policy} smtp:[127.0.0.1]:${lab.policyPort}
`;
}

/** What Debian's /usr/lib/postfix/configure-instance.sh puts into a chroot, with our resolv.conf. */
async function populateChroot(q: string): Promise<void> {
  const etc = join(q, "etc");
  await mkdirMode(etc, 0o755);
  await writeFile(join(etc, "resolv.conf"), "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
  await chmod(join(etc, "resolv.conf"), 0o644);
  for (const f of ["localtime", "services", "hosts", "host.conf", "nsswitch.conf", "nss_mdns.config"]) {
    if (existsSync(join("/etc", f))) {
      await copyFile(join("/etc", f), join(etc, f)); // follows the /etc/localtime symlink
      await chmod(join(etc, f), 0o644);
    }
  }
  const dev = join(q, "dev");
  await mkdirMode(dev, 0o755);
  for (const [n, minor] of [
    ["random", 8],
    ["urandom", 9],
  ] as const) {
    if (!existsSync(join(dev, n))) await run(["mknod", "-m", "666", join(dev, n), "c", "1", String(minor)]);
  }
  const zone = join(q, "usr/lib/zoneinfo");
  await mkdirMode(join(q, "usr"), 0o755);
  await mkdirMode(join(q, "usr/lib"), 0o755);
  await mkdirMode(zone, 0o755);
  await rm(join(zone, "localtime"), { force: true });
  await symlink("/etc/localtime", join(zone, "localtime"));

  // libgcc_s, libnss*, libresolv* (glibc may dlopen them after the chroot).
  for (const sub of await readdir("/lib", { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    const from = join("/lib", sub.name);
    const names = (await readdir(from).catch(() => [] as string[])).filter((f) =>
      /^lib(gcc_s|nss|resolv).*\.so/.test(f),
    );
    if (names.length === 0) continue;
    const to = join(q, "lib", sub.name);
    await mkdirMode(join(q, "lib"), 0o755);
    await mkdirMode(to, 0o755);
    for (const f of names) {
      const src = join(from, f);
      const dst = join(to, f);
      await rm(dst, { force: true });
      if ((await lstat(src)).isSymbolicLink()) await symlink(await readlink(src), dst);
      else await copyFile(src, dst);
    }
  }
}

async function startSshd(
  lab: Lab | LabData,
  relay: LabRelay,
  sshDir: string,
  maxSessions: number,
): Promise<string> {
  const hostKey = join(sshDir, "ssh_host_ed25519_key");
  await runOk(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", `${relay.name}.lab.test`, "-f", hostKey]);
  const fp = (await runOk(["ssh-keygen", "-lf", `${hostKey}.pub`])).stdout.trim().split(/\s+/)[1] ?? "";
  if (!fp.startsWith("SHA256:")) throw new Error(`unexpected ssh-keygen -lf output for ${hostKey}.pub`);

  const cfg = join(sshDir, "sshd_config");
  // An empty HOME for every login: bash sources ~/.bashrc for commands run by sshd, and a
  // machine's own root .bashrc (pyenv init rehashes under a lock) would serialise and slow
  // every probe by what that machine happens to run, not by anything the bot does.
  const home = join(sshDir, "home");
  await mkdirMode(home, 0o755);
  await writeFile(
    cfg,
    `# sshd for lab relay "${relay.name}" (generated by test/lab/lab.ts)
ListenAddress 127.0.0.1:${relay.port}
HostKey ${hostKey}
PidFile ${join(sshDir, "sshd.pid")}
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AuthorizedKeysFile ${join(lab.root, "authorized_keys")}
AllowUsers root ${SUDO_USER} ${GATE_USER}
# Every command over this connection targets this relay's Postfix instance, from a bare HOME.
SetEnv MAIL_CONFIG=${relay.configDir} HOME=${home}
UseDNS no
PrintMotd no
X11Forwarding no
MaxStartups 100:30:200
MaxSessions ${maxSessions}
LogLevel VERBOSE
Subsystem sftp internal-sftp
Match User ${GATE_USER}
  AuthorizedKeysFile ${await setUpRelayGate(lab, relay, sshDir)}
`,
  );
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  await runOk(["/usr/sbin/sshd", "-t", "-f", cfg]);
  await runOk(["/usr/sbin/sshd", "-f", cfg, "-E", join(sshDir, "sshd.log")]);
  await waitFor(`${relay.name} sshd on :${relay.port}`, () => canConnect(relay.port), 10_000);
  return fp;
}

/**
 * Set-gid postqueue/postdrop run by a non-root user honour MAIL_CONFIG only for directories
 * the default main.cf lists in alternate_config_directories; the list is rebuilt from a
 * registry so that concurrent labs neither clobber nor leak each other's entries.
 */
async function authorizeConfigDir(configDir: string): Promise<void> {
  await withFileLock(DNS_LOCK, async () => {
    await mkdir(CONFIG_DIRS, { recursive: true });
    await writeFile(
      join(CONFIG_DIRS, createHash("sha256").update(configDir).digest("hex").slice(0, 16)),
      `${configDir}\n`,
    );
    await writeAlternateConfigDirectories();
  });
}

async function revokeConfigDir(configDir: string): Promise<void> {
  await withFileLock(DNS_LOCK, async () => {
    await rm(join(CONFIG_DIRS, createHash("sha256").update(configDir).digest("hex").slice(0, 16)), {
      force: true,
    });
    await writeAlternateConfigDirectories();
  });
}

async function writeAlternateConfigDirectories(): Promise<void> {
  const dirs: string[] = [];
  for (const f of await readdir(CONFIG_DIRS).catch(() => [] as string[])) {
    const dir = (await readFile(join(CONFIG_DIRS, f), "utf8").catch(() => "")).trim();
    if (dir && existsSync(dir)) dirs.push(dir);
    else await rm(join(CONFIG_DIRS, f), { force: true });
  }
  await mkdir("/etc/postfix", { recursive: true });
  if (!existsSync("/etc/postfix/main.cf"))
    await writeFile("/etc/postfix/main.cf", "# written by the mailq-bot relay lab (test/lab/lab.ts)\n");
  await runOk([
    "/usr/sbin/postconf",
    "-c",
    "/etc/postfix",
    "-e",
    `alternate_config_directories = ${dirs.sort().join(" ")}`,
  ]);
}

async function stopRelayDir(dir: string): Promise<void> {
  const configDir = join(dir, "config");
  const masterPidFile = join(dir, "queue", "pid", "master.pid");
  const master = await readPid(masterPidFile);
  if (master && isAlive(master) && (await procComm(master)) === "master") {
    const kids = await childrenOf(master);
    await run(["/usr/sbin/postfix", "-c", configDir, "stop"], {
      env: { ...process.env, MAIL_CONFIG: configDir },
      timeoutMs: 20_000,
    }).catch(() => {});
    await waitFor("postfix master to exit", async () => !isAlive(master), 10_000).catch(() => {});
    await terminate(master);
    await Promise.all(kids.map((k) => terminate(k, 1000)));
  }
  const sshd = await readPid(join(dir, "ssh", "sshd.pid"));
  if (sshd && isAlive(sshd) && (await procComm(sshd)) === "sshd") {
    const sessions = await childrenOf(sshd);
    await terminate(sshd);
    await Promise.all(sessions.map((s) => terminate(s, 1000)));
  }
  await revokeConfigDir(configDir);
  await rm(gateSudoersFile(configDir), { force: true });
}

/**
 * Test files in several vitest workers add relays to one lab at once, each knowing only its own:
 * every relay leaves its description in <relay>/relay.json, and the lab-wide files are rebuilt
 * from all of them under a lock and replaced atomically, so that no writer drops another's relay
 * (a known_hosts without it fails that relay's host key check).
 */
async function writeLabFiles(lab: Lab | LabData): Promise<void> {
  await withFileLock(join(lab.root, ".files.lock"), async () => {
    const onDisk: LabRelay[] = [];
    for (const d of await readdir(lab.root, { withFileTypes: true })) {
      if (!d.isDirectory()) continue;
      const f = join(lab.root, d.name, "relay.json");
      if (existsSync(f)) onDisk.push(JSON.parse(await readFile(f, "utf8")) as LabRelay);
    }
    const known = new Set(lab.relays.map((r) => r.name));
    const relays = [
      ...lab.relays,
      ...onDisk.filter((r) => !known.has(r.name)).sort((a, b) => a.name.localeCompare(b.name)),
    ];
    const data: LabData = {
      root: lab.root,
      relays,
      dnsPort: lab.dnsPort,
      throttlePort: lab.throttlePort,
      greylistPort: lab.greylistPort,
      policyPort: lab.policyPort,
      refusedPort: lab.refusedPort,
      knownHostsPath: lab.knownHostsPath,
      mailqConfigPath: lab.mailqConfigPath,
    };
    await replaceFile(join(lab.root, "lab.json"), `${JSON.stringify(data, null, 2)}\n`);
    const yaml = (username: string, sudo: boolean) =>
      [
        "relays:",
        ...relays.flatMap((r) => [
          `  - name: ${r.name}`,
          `    host: ${r.host}`,
          `    port: ${r.port}`,
          `    username: ${username}`,
          `    privateKeyPath: ${r.privateKeyPath}`,
          `    hostKeyFingerprint: "${r.hostKeyFingerprint}"`,
          ...(sudo ? ["    sudo: true"] : []),
        ]),
        "",
      ].join("\n");
    await replaceFile(lab.mailqConfigPath, yaml("root", false));
    await replaceFile(join(lab.root, "mailq-sudo.yaml"), yaml(SUDO_USER, true));
    await replaceFile(join(lab.root, "mailq-gate.yaml"), yaml(GATE_USER, true));
    const lines: string[] = [];
    for (const r of relays) {
      const pub = (await readFile(join(lab.root, r.name, "ssh", "ssh_host_ed25519_key.pub"), "utf8")).trim();
      const [type, key] = pub.split(/\s+/);
      lines.push(`[127.0.0.1]:${r.port} ${type} ${key}`);
    }
    await replaceFile(lab.knownHostsPath, `${lines.join("\n")}\n`);
  });
}

/** Writes a file whole or not at all: readers never see it half written. */
async function replaceFile(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}
