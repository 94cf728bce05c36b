import type { ParseResult } from "./postqueue.js";

export interface DiskUsage {
  filesystem: string;
  mountedOn: string;
  total: number;
  used: number;
  available: number;
  /** 0–100, as df computes it (used / (used + available)). */
  usedPercent: number;
}

/** `df -P -k DIR` (sizes in KiB) or `df -P -i DIR` (inodes): the one data line. */
export function parseDfP(text: string, unitBytes: number): DiskUsage | undefined {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const data = lines[lines.length - 1];
  if (lines.length < 2 || data === undefined) return undefined;
  const f = data.trim().split(/\s+/);
  if (f.length < 6) return undefined;
  const [filesystem, total, used, avail, cap] = f;
  const n = [total, used, avail].map(Number);
  if (n.some((x) => !Number.isFinite(x))) return undefined;
  const pct = Number(String(cap).replace("%", ""));
  return {
    filesystem: filesystem ?? "",
    mountedOn: f.slice(5).join(" "),
    total: (n[0] ?? 0) * unitBytes,
    used: (n[1] ?? 0) * unitBytes,
    available: (n[2] ?? 0) * unitBytes,
    usedPercent: Number.isFinite(pct) ? pct : 0,
  };
}

export interface ProcessRow {
  pid: number;
  ppid: number;
  elapsedS: number;
  comm: string;
  args: string;
}

/** `ps -eo pid,ppid,etimes,comm,args` */
export function parsePs(text: string): ProcessRow[] {
  const rows: ProcessRow[] = [];
  for (const line of text.split("\n").slice(1)) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    rows.push({
      pid: Number(m[1]),
      ppid: Number(m[2]),
      elapsedS: Number(m[3]),
      comm: m[4] ?? "",
      args: m[5] ?? "",
    });
  }
  return rows;
}

/** `<queue_directory>/pid/master.pid`: the PID, space-padded. */
export function parsePidFile(text: string): number | undefined {
  const n = Number(text.trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * The instance's master.pid as root read it: the PID it names (undefined when it names none),
 * or not found. Unread (no root) is no MasterPidFile at all.
 */
export type MasterPidFile = { found: true; pid: number | undefined } | { found: false };

export interface ServiceHealth {
  masterRunning: boolean;
  masterPid: number | undefined;
  qmgrRunning: boolean;
  qmgrPid: number | undefined;
  /** Seconds qmgr has been up; a small number over and over means it keeps respawning. */
  qmgrUptimeS: number | undefined;
  /** What was checked and found, in a line: master.pid and the process table. */
  statusMessage: string;
}

// A zombie ("[master] <defunct>") keeps its name until its parent reaps it; it runs nothing.
const defunct = (p: ProcessRow) => p.args.endsWith("<defunct>");
const isMaster = (p: ProcessRow) =>
  !defunct(p) && (p.comm === "master" || /\/postfix\/sbin\/master\b|(^|\/)master -/.test(p.args));

/** This instance's master: its PID if it runs, and the evidence in words; undefined when unknowable. */
function findMaster(
  ps: ProcessRow[],
  pidFile: MasterPidFile | undefined,
): { pid: number | undefined; why: string } | undefined {
  if (pidFile) {
    if (!pidFile.found) return { pid: undefined, why: "no master.pid in the queue directory" };
    const { pid } = pidFile;
    if (pid === undefined) return { pid: undefined, why: "master.pid names no PID" };
    const row = ps.find((p) => p.pid === pid);
    if (!row) return { pid: undefined, why: `master.pid names PID ${pid}, which is not running` };
    if (defunct(row))
      return { pid: undefined, why: `master.pid names PID ${pid}, which has exited (defunct)` };
    if (!isMaster(row))
      return { pid: undefined, why: `master.pid names PID ${pid}, which is ${row.comm}, not master` };
    return { pid, why: `master PID ${pid} running (master.pid)` };
  }
  // master.pid unread (no root): a lone master is the best evidence there is; of several, any
  // may be another instance's.
  const masters = ps.filter(isMaster);
  const [m] = masters;
  if (masters.length > 1) return undefined;
  return m
    ? { pid: m.pid, why: `master PID ${m.pid} running (the only master; master.pid unread)` }
    : { pid: undefined, why: "no master process running (master.pid unread)" };
}

/**
 * master and qmgr from the instance's master.pid and the process table; not from `postfix
 * status`, which costs the relay a chain of processes and writes a line to its mail log on
 * every run. Several instances may share a host, so qmgr must be a child of this instance's
 * master. Undefined when master.pid is unread and several masters run: nothing tells which.
 */
export function serviceHealth(ps: ProcessRow[], pidFile?: MasterPidFile): ServiceHealth | undefined {
  const master = findMaster(ps, pidFile);
  if (!master) return undefined;
  const masterPid = master.pid;
  const qmgr =
    masterPid === undefined
      ? undefined
      : ps.find((p) => p.ppid === masterPid && p.comm === "qmgr" && !defunct(p));
  return {
    masterRunning: masterPid !== undefined,
    masterPid,
    qmgrRunning: qmgr !== undefined,
    qmgrPid: qmgr?.pid,
    qmgrUptimeS: qmgr?.elapsedS,
    statusMessage:
      masterPid === undefined
        ? master.why
        : `${master.why}, ${qmgr ? `qmgr PID ${qmgr.pid}` : "no qmgr child"}`,
  };
}

export interface Load {
  load1: number;
  load5: number;
  load15: number;
}

export function parseLoadavg(text: string): Load | undefined {
  const f = text.trim().split(/\s+/).map(Number);
  if (f.length < 3 || f.slice(0, 3).some((x) => !Number.isFinite(x))) return undefined;
  return { load1: f[0] ?? 0, load5: f[1] ?? 0, load15: f[2] ?? 0 };
}

/** `vmstat 1 2`: the last line is the one-second sample; its "wa" column is iowait %. */
export function parseVmstatIowait(text: string): number | undefined {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const header = lines.find((l) => /\bwa\b/.test(l) && /\bus\b/.test(l));
  const last = lines[lines.length - 1];
  if (!header || !last || last === header) return undefined;
  const col = header.trim().split(/\s+/).indexOf("wa");
  const v = Number(last.trim().split(/\s+/)[col]);
  return Number.isFinite(v) ? v : undefined;
}

/** `/proc/pressure/io` (Linux PSI): shares of the last 10 s that tasks were stalled on I/O, 0–100. */
export interface IoPressure {
  /** At least one task was stalled on I/O ("some avg10"): the queue disk is slowing delivery. */
  someAvg10: number;
  /** Every non-idle task was stalled at once ("full avg10"); null when the kernel gave no full line. */
  fullAvg10: number | null;
}

const PSI_LINE = /^(some|full) avg10=(\S+) avg60=(\S+) avg300=(\S+) total=(\d+)$/;
const PSI_SHARE = /^\d{1,3}\.\d{2}$/;

/**
 * `cat /proc/pressure/io`: a "some" line and (since Linux 4.20, always for io) a "full" line,
 * `some avg10=12.27 avg60=4.92 avg300=2.32 total=666926824`. Anything else is refused with why.
 */
export function parseIoPressure(text: string): ParseResult<IoPressure> {
  const found = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = PSI_LINE.exec(line);
    if (!m)
      return {
        ok: false,
        error: `unexpected line in /proc/pressure/io: ${JSON.stringify(line.slice(0, 80))}`,
      };
    const [, kind = "", avg10 = "", ...rest] = m;
    if (found.has(kind)) return { ok: false, error: `two "${kind}" lines in /proc/pressure/io` };
    for (const share of [avg10, ...rest.slice(0, 2)]) {
      const v = Number(share);
      if (!PSI_SHARE.test(share) || !Number.isFinite(v) || v > 100)
        return { ok: false, error: `"${kind}" share ${JSON.stringify(share)} is not a percentage (0–100)` };
    }
    found.set(kind, Number(avg10));
  }
  const some = found.get("some");
  if (some === undefined) return { ok: false, error: 'no "some" line in /proc/pressure/io' };
  return { ok: true, value: { someAvg10: some, fullAvg10: found.get("full") ?? null } };
}
