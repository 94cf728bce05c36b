/** Small helpers shared by the benchmark scripts: GNU time, medians, the machine, load. */
import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";

export interface Measured {
  /** seconds */
  wall: number;
  /** user + sys CPU seconds of the timed process and its waited-for children */
  cpu: number;
  /** peak RSS of the largest process in the timed tree (GNU time %M), MB */
  rssMb: number;
  /** load average (1 min) just before the run */
  load1: number;
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOpts {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Keep stdout (default: drop it). */
  keepStdout?: boolean;
  /** Stdout straight to /dev/null: nothing on this side reads it (a floor must not pay for our pipe). */
  discardStdout?: boolean;
  timeoutMs?: number;
  /** Run on these CPUs only (a taskset list; bench/cores.ts): unset, wherever the kernel likes. */
  cpus?: string;
}

/** Runs argv under `/usr/bin/time` and returns wall, CPU and peak RSS as GNU time measured them. */
export async function timed(argv: string[], opts: RunOpts = {}): Promise<Measured> {
  const load1 = await loadavg1();
  const out = join(tmpdir(), `bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const pinned = opts.cpus === undefined ? argv : ["taskset", "-c", opts.cpus, ...argv];
  const r = await exec(["/usr/bin/time", "-o", out, "-f", "%e %U %S %M", ...pinned], opts);
  const text = (await readFile(out, "utf8").catch(() => "")).trim().split("\n").pop() ?? "";
  await rm(out, { force: true });
  const [e, u, s, m] = text.split(" ").map(Number);
  if (e === undefined || Number.isNaN(e))
    throw new Error(`no GNU time output for ${argv.join(" ")}: ${r.stderr}`);
  return {
    wall: e,
    cpu: (u ?? 0) + (s ?? 0),
    rssMb: (m ?? 0) / 1024,
    load1,
    code: r.code,
    stdout: r.stdout,
    stderr: r.stderr,
  };
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function exec(argv: string[], opts: RunOpts & { stdin?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (!cmd) throw new Error("empty argv");
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.stdin === undefined ? "ignore" : "pipe", opts.discardStdout ? "ignore" : "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let errLen = 0;
    child.stdout?.on("data", (c: Buffer) => {
      if (opts.keepStdout) out.push(c);
    });
    child.stderr?.on("data", (c: Buffer) => {
      if (errLen < 1 << 16) {
        err.push(c);
        errLen += c.length;
      }
    });
    const timer = opts.timeoutMs
      ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs).unref()
      : undefined;
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
  });
}

export async function execOk(argv: string[], opts: RunOpts & { stdin?: string } = {}): Promise<string> {
  const r = await exec(argv, { keepStdout: true, ...opts });
  if (r.code !== 0) throw new Error(`${argv.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function loadavg1(): Promise<number> {
  const t = await readFile("/proc/loadavg", "utf8");
  return Number(t.split(" ")[0]);
}

export interface Stats {
  n: number;
  median: number;
  min: number;
  max: number;
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { n: 0, median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mid = Math.floor(n / 2);
  const median = n % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { n, median, min: s[0] as number, max: s[n - 1] as number };
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  kernel: string;
  node: string;
  postfix: string;
  os: string;
}

export async function machine(): Promise<Machine> {
  const os = (await readFile("/etc/os-release", "utf8")).match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? "?";
  const postfix = (await exec(["/usr/sbin/postconf", "-d", "-h", "mail_version"], { keepStdout: true }))
    .stdout;
  return {
    cpu: cpus()[0]?.model ?? "?",
    cores: cpus().length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: (await execOk(["uname", "-r"])).trim(),
    node: process.version,
    postfix: postfix.trim() || "?",
    os,
  };
}

export function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "–";
}

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Number of regular files under dir (recursively), as `find -type f` counts them. */
export async function countFilesUnder(dir: string): Promise<number> {
  const r = await exec(["find", dir, "-type", "f", "-printf", "."], { keepStdout: true });
  return r.stdout.length;
}

/** OpenSSH to a lab relay as `user`, its host key checked against `knownHosts`, running `command`. */
export function sshArgv(
  relay: { privateKeyPath: string; host: string; port: number },
  knownHosts: string,
  command: string,
  user = "root",
): string[] {
  return [
    "ssh",
    "-q",
    "-i",
    relay.privateKeyPath,
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    "-p",
    String(relay.port),
    `${user}@${relay.host}`,
    command,
  ];
}
