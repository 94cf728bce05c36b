import { connect } from "node:net";
import { QueueAccumulator } from "../analysis/queue-summary.js";
import { expandPostconf, outboundIps, ptrName } from "../analysis/reputation.js";
import type { SshRelayConfig } from "../config.js";
import { describeError, isMailqError } from "../errors.js";
import { parsePostconf, postfixSettings } from "../parsers/postconf.js";
import { type Check, fail, ok, skip, warn } from "../util/check.js";
import { countFiles, type ProbeContext, ProbeFailure, probes } from "./probes.js";
import type { CommandRunner } from "./runner.js";
import { SshRunner } from "./ssh.js";
import { certEndDate, digRecords, worldPostconf } from "./triage-probes.js";

export interface RelayDoctorOptions {
  timeoutMs: number;
  listingTimeoutMs: number;
  logLines: number;
  nowMs: () => number;
}

/** A name no relay has: the gate refuses it (and says so); a plain shell says "not found". */
export const GATE_SENTINEL = "mailq-bot-doctor-gate-check";

function tcpOpen(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (why?: string) => {
      s.destroy();
      resolve(why);
    };
    s.setTimeout(timeoutMs, () => done(`no answer within ${Math.round(timeoutMs / 1000)} s`));
    s.once("connect", () => done(undefined));
    s.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

/** One relay, step by step: TCP, host key, login, gate, probes, sudo, mail log. Never throws. */
export async function relayChecks(relay: SshRelayConfig, o: RelayDoctorOptions): Promise<Check[]> {
  const a = relay.name;
  const at = `${relay.host}:${relay.port}`;
  const tcp = await tcpOpen(relay.host, relay.port, o.timeoutMs);
  if (tcp !== undefined)
    return [
      fail(
        a,
        "tcp",
        `cannot open a TCP connection to ${at}: ${tcp}`,
        "check host and port in the configuration, that sshd runs on the relay, and that firewalls let the bot through",
      ),
      skip(a, "host key", "no TCP connection"),
      skip(a, "login", "no TCP connection"),
    ];
  const checks: Check[] = [ok(a, "tcp", `${at} accepts connections`)];
  let runner: CommandRunner;
  try {
    runner = await SshRunner.connect(relay, o.timeoutMs, false);
  } catch (e) {
    const code = isMailqError(e) ? e.code : undefined;
    if (code === "RELAY_HOST_KEY_MISMATCH")
      return [
        ...checks,
        fail(
          a,
          "host key",
          describeError(e).split(". ")[0] ?? describeError(e),
          `compare on the relay's console: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub; if it is the relay's own key, paste it as hostKeyFingerprint (mailq-bot fingerprint ${at} shows what is presented). A changed key may also be an attack`,
        ),
        skip(a, "login", "the host key did not match"),
      ];
    if (code === "RELAY_AUTH_FAILED")
      return [
        ...checks,
        ok(a, "host key", `matches ${relay.hostKeyFingerprint}`),
        fail(
          a,
          "login",
          `${relay.username}@${at} refused the bot's key ${relay.privateKeyPath}`,
          `on the relay, run deploy/relay/install.sh with the bot's public key (${relay.privateKeyPath}.pub), or check username`,
        ),
      ];
    if (code === "CONFIG_INVALID")
      return [
        ...checks,
        skip(a, "host key", "the private key could not be read"),
        fail(
          a,
          "login",
          describeError(e),
          `make ${relay.privateKeyPath} readable by the bot's user (mode 0600, owned by it)`,
        ),
      ];
    return [
      ...checks,
      fail(
        a,
        "host key",
        `the SSH handshake failed: ${describeError(e)}`,
        "check that the port is sshd's (ssh -p PORT HOST from the bot host)",
      ),
      skip(a, "login", "the SSH handshake failed"),
    ];
  }
  checks.push(ok(a, "host key", `matches ${relay.hostKeyFingerprint}`));
  checks.push(ok(a, "login", `logged in as ${relay.username}`));
  try {
    checks.push(await gateCheck(relay, runner, o));
    checks.push(...(await probeChecks(relay, runner, o)));
  } finally {
    await runner.close();
  }
  return checks;
}

async function gateCheck(
  relay: SshRelayConfig,
  runner: CommandRunner,
  o: RelayDoctorOptions,
): Promise<Check> {
  const r = await runner.run([GATE_SENTINEL], { timeoutMs: o.timeoutMs });
  if (/mailq-bot-gate: refused/.test(r.stderr))
    return ok(relay.name, "gate", "mailq-bot-gate answers and refuses what it does not allow");
  if (r.code === 127)
    return warn(
      relay.name,
      "gate",
      `no forced command on this key: ${relay.username} can run anything over SSH`,
      'install the key with deploy/relay/install.sh (restrict,command="…/mailq-bot-gate")',
    );
  return fail(
    relay.name,
    "gate",
    r.timedOut
      ? "no answer to a command before the deadline"
      : `unexpected answer (exit ${r.code ?? "by signal"}): ${r.stderr.trim().slice(0, 200)}`,
    "check the relay's authorized_keys line and that the gate file is executable",
  );
}

/**
 * Triage's checklist B through this relay's gate, once: its postconf, the certificate's end
 * date when smtpd_tls_cert_file is set, a PTR lookup when the outbound address is known.
 */
async function worldProbe(ctx: ProbeContext, relay: SshRelayConfig): Promise<void> {
  const values = await worldPostconf(ctx);
  const cert = expandPostconf(values.smtpd_tls_cert_file ?? "", values).trim();
  const ip = outboundIps(relay.outboundIps, values).ips[0];
  await Promise.all([
    cert ? certEndDate(ctx, cert) : null,
    ip ? digRecords(ctx, "PTR", ptrName(ip), relay.resolver) : null,
  ]);
}

const why = (e: unknown) => (e instanceof ProbeFailure ? e.message : describeError(e));

const NO_PSI = /No such file or directory|Operation not supported/;

/**
 * Whether the relay's kernel serves PSI (/proc/pressure/io). Its absence is an answer (status
 * falls back to vmstat 1 2); a refusal by the gate or any other failure throws, as any probe's.
 */
export function psiAnswers(ctx: ProbeContext): Promise<boolean> {
  return probes.ioPressure(ctx).then(
    () => true,
    (e: unknown) => {
      if (e instanceof ProbeFailure && NO_PSI.test(e.message)) return false;
      throw e;
    },
  );
}

/** Where status reads the relay's I/O stall from, and what the fallback costs. */
export function ioPressureCheck(relay: string, psi: boolean): Check {
  return psi
    ? ok(
        relay,
        "io pressure",
        "/proc/pressure/io answers: status reads the I/O stall from PSI, without vmstat",
      )
    : warn(
        relay,
        "io pressure",
        "no /proc/pressure/io on this kernel (no PSI, or booted with psi=0): every status measures iowait with vmstat 1 2, which holds the relay's connection a second",
        "boot the relay with psi=1 on the kernel command line (RHEL 8/9: grubby --update-kernel=ALL --args=psi=1, then reboot), or accept the extra second",
      );
}

/** Every probe the bot runs, once; failures sorted into the gate's, sudo's and the mail log's. */
async function probeChecks(
  relay: SshRelayConfig,
  runner: CommandRunner,
  o: RelayDoctorOptions,
): Promise<Check[]> {
  const a = relay.name;
  const started = o.nowMs();
  const ctx: ProbeContext = { runner, sudo: relay.sudo, deadlineMs: started + o.timeoutMs, nowMs: o.nowMs };
  const plain: string[] = [];
  const root: string[] = [];
  const attempt = async (into: string[], p: Promise<unknown>) => {
    try {
      await p;
      return true;
    } catch (e) {
      into.push(why(e));
      return false;
    }
  };
  let settings: ReturnType<typeof postfixSettings> | undefined;
  await attempt(
    plain,
    probes.postconf(ctx).then((r) => {
      settings = postfixSettings(parsePostconf(r.stdout));
    }),
  );
  const qdir = settings?.queueDirectory;
  const listing = probes
    .postqueue(
      { ...ctx, deadlineMs: started + Math.max(o.timeoutMs, o.listingTimeoutMs) },
      new QueueAccumulator(0),
    )
    .then((r) => {
      if (!r.complete)
        throw new ProbeFailure("postqueue -j", "postqueue -j did not finish before probes.listingTimeout");
    });
  let psi: boolean | undefined;
  const asked: Promise<unknown>[] = [
    attempt(plain, listing),
    attempt(plain, probes.ps(ctx)),
    attempt(plain, probes.loadavg(ctx)),
    attempt(
      plain,
      psiAnswers(ctx).then((answers) => {
        psi = answers;
      }),
    ),
    // The fallback where PSI is missing: every relay must be able to run it.
    attempt(plain, probes.vmstat(ctx)),
    attempt(plain, worldProbe(ctx, relay)),
  ];
  if (qdir)
    asked.push(
      attempt(plain, probes.dfBytes(ctx, qdir)),
      attempt(plain, probes.dfInodes(ctx, qdir)),
      attempt(root, probes.masterPid(ctx, qdir)),
      attempt(root, probes.queueFiles(ctx, qdir)),
      attempt(root, countFiles(ctx, `${qdir}/corrupt`, "find corrupt")),
    );
  await Promise.all(asked);
  const log = settings
    ? await probes.maillog(ctx, settings.maillogFile, Math.min(o.logLines, 100)).then(
        (acc) => ({ ok: true as const, source: acc.summary(1).source }),
        (e) => ({ ok: false as const, error: why(e) }),
      )
    : undefined;

  const checks: Check[] = [];
  const total = asked.length;
  const gateRefused = [...plain, ...root].some((m) => /mailq-bot-gate refused/.test(m));
  const rootFailures = relay.sudo ? root : [];
  const probeFailures = relay.sudo ? plain : [...plain, ...root];
  checks.push(
    probeFailures.length
      ? fail(
          a,
          "probes",
          `${probeFailures.length} of ${total} probes failed: ${probeFailures.join("; ")}`,
          gateRefused
            ? "install the current deploy/relay/mailq-bot-gate on the relay (deploy/relay/install.sh)"
            : relay.sudo
              ? "check that Postfix is installed and the bot's user may run these commands"
              : "the commands that need root fail: set sudo: true for this relay and install the sudoers drop-in (deploy/relay/install.sh)",
        )
      : ok(a, "probes", `all ${total} probes answered${qdir ? ` (queue_directory ${qdir})` : ""}`),
  );
  if (psi !== undefined) checks.push(ioPressureCheck(a, psi));
  if (relay.sudo)
    checks.push(
      rootFailures.length
        ? fail(
            a,
            "sudo",
            `sudo -n refused: ${rootFailures.join("; ")}`,
            `on the relay: deploy/relay/render-sudoers ${relay.username} > /etc/sudoers.d/mailq-bot && visudo -cf /etc/sudoers.d/mailq-bot (deploy/relay/install.sh does both)`,
          )
        : ok(a, "sudo", "sudo -n grants every command that needs root"),
    );
  if (!log) checks.push(skip(a, "mail log", "postconf did not answer, so where Postfix logs is unknown"));
  else if (log.ok) checks.push(ok(a, "mail log", `${log.source} is readable`));
  else
    checks.push(
      fail(
        a,
        "mail log",
        `not readable: ${log.error}`,
        relay.sudo
          ? "render the sudoers drop-in again on the relay (it grants tail of maillog_file); with syslog, check /var/log/mail.log exists"
          : "the mail log needs root: set sudo: true and install the sudoers drop-in",
      ),
    );
  return checks;
}
