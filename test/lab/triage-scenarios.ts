/**
 * Stuck-queue scenarios the shared lab (lab.ts) lacks, each on its own relay instance
 * (startRelay), so that breaking it touches no other test: a milter that is down, qmgr
 * missing from master.cf, and a spool on a small tmpfs (space and inode pressure).
 * Everything stays on 127.0.0.1. Needs root, like the lab.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type LabData, type LabRelay, labExec, sendMail, startRelay } from "./lab.js";
import { sendMessages } from "./smtp-client.js";

const exec = promisify(execFile);

async function must(relay: LabRelay, argv: string[]): Promise<string> {
  const r = await labExec(relay, argv);
  if (r.code !== 0) throw new Error(`${relay.name}: ${argv.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function waitUntil(what: string, ok: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A loopback TCP port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const maillog = (r: LabRelay) => readFile(r.maillogPath, "utf8").catch(() => "");

/**
 * smtpd_milters points at a closed loopback port with milter_default_action = tempfail, so
 * Postfix refuses new mail with 451 and logs "connect to Milter service … Connection refused".
 */
export async function milterDownRelay(
  lab: LabData,
  name: string,
): Promise<LabRelay & { milterPort: number }> {
  const r = await startRelay(lab, name);
  const milterPort = await closedPort();
  await must(r, [
    "postconf",
    "-e",
    `smtpd_milters=inet:127.0.0.1:${milterPort}`,
    "milter_default_action=tempfail",
  ]);
  await must(r, ["postfix", "reload"]);
  await new Promise((res) => setTimeout(res, 1000));
  for (let i = 0; i < 3; i++)
    await sendMail(r, { from: "app@billing.example.internal", to: [`u${i}@refused.lab.test`] }).catch(
      () => {},
    );
  await waitUntil(`${name} to log the milter failure`, async () => /milter-reject: /.test(await maillog(r)));
  return { ...r, milterPort };
}

/** qmgr's line commented out of master.cf and `postfix reload`: master runs, qmgr is gone. */
export async function noQmgrRelay(lab: LabData, name: string): Promise<LabRelay> {
  const r = await startRelay(lab, name);
  await commentOutQmgr(r);
  return r;
}

export async function commentOutQmgr(r: LabRelay): Promise<void> {
  const cf = join(r.configDir, "master.cf");
  await writeFile(
    cf,
    (await readFile(cf, "utf8")).replace(/^qmgr\s.*$/m, "#$& (removed by triage-scenarios)"),
  );
  await must(r, ["postfix", "reload"]);
  const masterPid = Number((await readFile(join(r.queueDirectory, "pid/master.pid"), "utf8")).trim());
  await waitUntil(`${r.name}'s qmgr to exit`, async () => {
    const { stdout } = await exec("ps", ["-eo", "pid,ppid,comm"]);
    return !stdout.split("\n").some((l) => new RegExp(`^\\s*\\d+\\s+${masterPid}\\s+qmgr$`).test(l));
  });
}

export interface SmallSpool {
  relay: LabRelay;
  /** The tmpfs's size and inode count. */
  sizeKiB: number;
  inodes: number;
  /** Stops Postfix, unmounts the tmpfs and starts Postfix again on the original spool. */
  restore(): Promise<void>;
}

/**
 * The queue directory on a tmpfs of `sizeKiB` with only a few spare inodes. Smaller than
 * 1.5 × message_size_limit, so smtpd refuses mail with "452 4.3.1 Insufficient system storage"
 * and logs "not enough free space in mail queue"; df -i shows the inodes nearly used up.
 * Returns null (with the reason) where this sandbox cannot mount.
 */
export async function smallSpoolRelay(
  lab: LabData,
  name: string,
  opts: { sizeKiB?: number; spareInodes?: number } = {},
): Promise<SmallSpool | { skipped: string }> {
  const r = await startRelay(lab, name);
  const q = r.queueDirectory;
  const sizeKiB = opts.sizeKiB ?? 8192;
  const stage = await mkdtemp(join(tmpdir(), "mailq-spool-"));
  await must(r, ["postfix", "stop"]);
  await exec("cp", ["-a", `${q}/.`, stage]);
  const used = Number((await exec("sh", ["-c", `find "$1" | wc -l`, "sh", stage])).stdout.trim());
  const inodes = used + (opts.spareInodes ?? 4);
  try {
    await exec("mount", ["-t", "tmpfs", "-o", `size=${sizeKiB}k,nr_inodes=${inodes},mode=755`, "tmpfs", q]);
  } catch (e) {
    await must(r, ["postfix", "start"]);
    await rm(stage, { recursive: true, force: true });
    return { skipped: `cannot mount a tmpfs here: ${(e as Error).message}` };
  }
  await exec("cp", ["-a", `${stage}/.`, q]);
  await rm(stage, { recursive: true, force: true });
  await must(r, ["postfix", "start"]);
  for (let i = 0; i < 2; i++)
    await sendMail(r, { from: "app@billing.example.internal", to: [`u${i}@refused.lab.test`] }).catch(
      () => {},
    );
  await waitUntil(`${name} to log the space warning`, async () =>
    /not enough free space in mail queue/.test(await maillog(r)),
  );
  return {
    relay: r,
    sizeKiB,
    inodes,
    async restore() {
      await labExec(r, ["postfix", "stop"]);
      await new Promise((res) => setTimeout(res, 500));
      await exec("umount", [q]).catch(() => exec("umount", ["-l", q]));
      await labExec(r, ["postfix", "start"]);
    },
  };
}

/**
 * A self-signed certificate for the relay's smtpd, valid from `start` to `end` (openssl ca
 * -selfsign takes both dates, so expired certificates are as real as valid ones): written
 * under the relay's directory, world-readable as certificates are, the key root-only.
 */
export async function setRelayCert(r: LabRelay, start: Date, end: Date): Promise<string> {
  const dir = join(r.configDir, "..", "tls");
  await rm(dir, { recursive: true, force: true });
  await exec("mkdir", ["-p", dir]);
  const stamp = (d: Date) => `${d.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
  await writeFile(join(dir, "index.txt"), "");
  await writeFile(join(dir, "serial"), "01\n");
  await writeFile(
    join(dir, "ca.cnf"),
    `[ca]\ndefault_ca = lab\n[lab]\ndatabase = ${dir}/index.txt\nnew_certs_dir = ${dir}\nserial = ${dir}/serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n[any]\ncommonName = supplied\n`,
  );
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  await exec("openssl", [
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    key,
    "-out",
    join(dir, "req.csr"),
    "-subj",
    `/CN=${r.name}.lab.test`,
  ]);
  await exec("openssl", [
    "ca",
    "-batch",
    "-config",
    join(dir, "ca.cnf"),
    "-selfsign",
    "-keyfile",
    key,
    "-in",
    join(dir, "req.csr"),
    "-out",
    cert,
    "-startdate",
    stamp(start),
    "-enddate",
    stamp(end),
    "-notext",
  ]);
  await exec("chmod", ["0755", dir]);
  await exec("chmod", ["0644", cert]);
  await exec("chmod", ["0600", key]);
  await must(r, ["postconf", "-e", `smtpd_tls_cert_file=${cert}`, `smtpd_tls_key_file=${key}`]);
  return cert;
}

/**
 * Bounces as Postfix logs them: `count` messages to unknown users and `dmarc` to DMARC-refusing
 * recipients at policy.lab.test (550 5.1.1 and 5.7.26 from the lab receiver), from a sender
 * whose domain does not exist, so the non-delivery notifications bounce too (backscatter).
 * Also one client refused by the relay's own smtpd (Relay access denied, 5.7.1).
 */
export async function bounceStorm(r: LabRelay, count: number, dmarc: number): Promise<void> {
  await must(r, [
    "postconf",
    "-e",
    "mynetworks=127.0.0.2/32",
    "smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination",
  ]);
  await must(r, ["postfix", "reload"]);
  await new Promise((res) => setTimeout(res, 1000));
  await sendMail(r, { from: "spam@forged.example.internal", to: ["victim@elsewhere.example"] }).catch(
    () => {},
  );
  const to = [
    ...Array.from({ length: count }, (_, i) => `nouser${i}@policy.lab.test`),
    ...Array.from({ length: dmarc }, (_, i) => `dmarc${i}@policy.lab.test`),
  ];
  await sendMessages(
    r.smtpPort,
    to.map((rcpt) => ({ from: "app@forged.example.internal", to: [rcpt] })),
    4,
  );
  await waitUntil(
    `${r.name} to bounce ${to.length} messages and their notifications`,
    async () => {
      const log = await maillog(r);
      return (
        (log.match(/ status=bounced /g)?.length ?? 0) >= to.length * 2 && /Relay access denied/.test(log)
      );
    },
    60_000,
  );
}
