import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { RunnerPool } from "../../src/relay/collect.js";
import type { CommandRunner } from "../../src/relay/runner.js";
import type { LabRelay } from "../lab/lab.js";

/**
 * The read-only allowlist: every argv status and triage may run, in full. Anything else (postsuper,
 * postqueue -f/-i, postcat, rm, mv, a shell) fails the test, and so does `postfix status`: it
 * writes a line to the relay's mail log on every run (master.pid and ps say the same).
 */
export function readOnlyAllowlist(r: LabRelay): RegExp[] {
  const q = r.queueDirectory.replaceAll("/", "\\/");
  const log = r.maillogPath.replaceAll("/", "\\/");
  const sudo = "(?:sudo -n )?";
  return [
    /^postconf(?: [a-z][a-z0-9_]*)+$/,
    /^postqueue -j$/,
    /^ps -eo pid,ppid,etimes,comm,args$/,
    /^cat \/proc\/loadavg$/,
    /^cat \/proc\/pressure\/io$/,
    // Only where /proc/pressure/io does not answer.
    /^vmstat 1 2$/,
    new RegExp(`^${sudo}find ${q}\\/(?:maildrop|incoming|active|deferred|hold|corrupt) -type f -printf \\.$`),
    new RegExp(`^df -P -[ki] ${q}$`),
    new RegExp(`^${sudo}cat ${q}\\/pid\\/master\\.pid$`),
    new RegExp(`^${sudo}tail -n \\d+ ${log}$`),
    /^dig \+tries=1 \+time=2 MX [a-z0-9.-]+ @127\.0\.0\.1$/,
    // checklist B: blocklist and forward lookups (A), reverse DNS (PTR), the certificate's end date
    /^dig \+tries=1 \+time=2 (?:A|PTR) [a-z0-9.-]+ @127\.0\.0\.1$/,
    new RegExp(
      `^openssl x509 -enddate -noout -in ${r.configDir.replace(/\/config$/, "").replaceAll("/", "\\/")}\\/tls\\/cert\\.pem$`,
    ),
    /^nc -vz -w 3 127\.0\.0\.1 \d{1,5}$/,
  ];
}

/** Every file under dir: path, size, mtime (ns) and, unless skipped, a content hash. */
export function tree(dir: string, opts: { hash: boolean; skip?: RegExp } = { hash: true }): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (opts.skip?.test(p)) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = statSync(p, { bigint: true });
        const h = opts.hash ? createHash("sha256").update(readFileSync(p)).digest("hex").slice(0, 16) : "";
        out.push(`${p.slice(dir.length)} ${st.size} ${st.mtimeNs} ${h}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** A pool whose runners record every argv they are asked to run. */
export class RecordingPool extends RunnerPool {
  readonly argvs: string[][] = [];
  override async get(relay: Parameters<RunnerPool["get"]>[0], timeoutMs: number): Promise<CommandRunner> {
    const inner = await super.get(relay, timeoutMs);
    const argvs = this.argvs;
    return {
      relay: inner.relay,
      run(argv, opts) {
        argvs.push([...argv]);
        return inner.run(argv, opts);
      },
      close: () => inner.close(),
    };
  }
}
