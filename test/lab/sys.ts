/** Process, port and file helpers for the relay lab (Linux only). */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { type FileHandle, mkdir, open, readdir, readFile, stat } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { dirname, join } from "node:path";

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RawExecResult {
  stdout: Buffer;
  stderr: Buffer;
  code: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  /** 0: no kill timer of run's own (the command has a deadline of its own). */
  timeoutMs?: number;
  cwd?: string;
  /** A descriptor of this process the command gets as its fd 3 (flock(1) locks it). */
  fd3?: number;
}

/** Runs argv without a shell, keeping the output bytes. Never rejects for a non-zero exit. */
export function runRaw(argv: string[], opts: RunOptions = {}): Promise<RawExecResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new Error("run: empty argv"));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ["pipe", "pipe", "pipe", opts.fd3 ?? "ignore"],
      timeout: opts.timeoutMs ?? 60_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), code: code ?? (signal ? 128 : 1) }),
    );
    child.stdin?.on("error", () => {});
    child.stdin?.end(opts.stdin ?? "");
  });
}

/** Runs argv without a shell. Never rejects for a non-zero exit; rejects if it cannot start. */
export async function run(argv: string[], opts: RunOptions = {}): Promise<ExecResult> {
  const r = await runRaw(argv, opts);
  return { stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8"), code: r.code };
}

/** Like run(), but rejects with the command's stderr when it exits non-zero. */
export async function runOk(argv: string[], opts: RunOptions = {}): Promise<ExecResult> {
  const r = await run(argv, opts);
  if (r.code !== 0)
    throw new Error(`${argv.join(" ")} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  return r;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago. */
/** Whether a listener could take this loopback port now (bound, then closed at once). */
export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Polls `check` until it gives something (true, or the value looked for), which it returns. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | false | undefined>,
  timeoutMs = 10_000,
  stepMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== false && found !== undefined) return found;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/**
 * Runs fn holding an exclusive flock(2) on file, against other processes and other calls in this
 * one. The lock belongs to a descriptor this process holds (flock(1) only takes it), so the kernel
 * frees it however this process ends: no lock is ever judged stale by its holder's pid, a check that
 * raced with a holder exiting while a third process took the lock. A holder may remove the file
 * (`npm run demo -- down` does): a waiter that then gets the lock of the removed file tries again.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  await mkdir(dirname(file), { recursive: true });
  const until = Date.now() + timeoutMs;
  for (;;) {
    const fh = await openLockFile(file);
    try {
      await flockFd(fh.fd, file, until - Date.now(), timeoutMs);
      const [held, now] = await Promise.all([fh.stat(), stat(file).catch(() => null)]);
      if (now?.ino === held.ino && now.dev === held.dev) return await fn();
    } finally {
      await fh.close();
    }
  }
}

async function openLockFile(file: string): Promise<FileHandle> {
  try {
    return await open(file, "a");
  } catch (e) {
    // A lock directory left by the lab's earlier lock: flock(2) takes a directory opened to read.
    if ((e as NodeJS.ErrnoException).code === "EISDIR") return open(file, "r");
    throw e;
  }
}

/** flock(1) on this process's descriptor fd (its fd 3): the lock stays with fd when flock exits. */
async function flockFd(fd: number, file: string, leftMs: number, timeoutMs: number): Promise<void> {
  const secs = String(Math.max(leftMs, 0) / 1000);
  const r = await run(["flock", "--exclusive", "--timeout", secs, "3"], { fd3: fd, timeoutMs: 0 });
  if (r.code === 1 && !r.stderr)
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for the lock ${file}: another process holds it (fuser -v ${file} names it)`,
    );
  if (r.code !== 0)
    throw new Error(`could not take the lock ${file}: flock exited ${r.code}: ${r.stderr.trim()}`);
}

/** True if pid exists and is not a zombie (pid 1 here may not reap daemons' exits). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

export async function readPid(file: string): Promise<number | null> {
  try {
    const n = Number((await readFile(file, "utf8")).trim());
    return Number.isInteger(n) && n > 1 ? n : null;
  } catch {
    return null;
  }
}

export async function procComm(pid: number): Promise<string | null> {
  try {
    return (await readFile(`/proc/${pid}/comm`, "utf8")).trim();
  } catch {
    return null;
  }
}

/** Direct children of pid, from /proc. */
export async function childrenOf(pid: number): Promise<number[]> {
  const kids: number[] = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = await readFile(join("/proc", d, "stat"), "utf8");
      // pid (comm) state ppid …; comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) kids.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return kids;
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
export async function terminate(pid: number, graceMs = 3000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const until = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < until) await sleep(25);
  if (isAlive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
    await waitFor(`pid ${pid} to exit`, async () => !isAlive(pid), 2000).catch(() => {});
  }
}

/** Number of regular files below dir (0 when dir is missing). */
export async function countFiles(dir: string): Promise<number> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).length;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw e;
  }
}
