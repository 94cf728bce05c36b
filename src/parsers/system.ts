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

export interface PostfixStatus {
  running: boolean;
  masterPid: number | undefined;
  message: string;
}

/**
 * `postfix status`: exit 0 when running. It names the PID on stderr only when stderr is a
 * terminal (otherwise it logs it), so the PID usually comes from `pid/master.pid`.
 */
export function parsePostfixStatus(output: string, exitCode: number): PostfixStatus {
  const m = /is running: PID: (\d+)/.exec(output);
  const message =
    output
      .trim()
      .replace(/^postfix(?:\/postfix-script)?(?:\[\d+\])?: /gm, "")
      .split("\n")[0] ?? "";
  return { running: exitCode === 0, masterPid: m ? Number(m[1]) : undefined, message };
}

/** `<queue_directory>/pid/master.pid`: the PID, space-padded. */
export function parsePidFile(text: string): number | undefined {
  const n = Number(text.trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export interface ServiceHealth {
  masterRunning: boolean;
  masterPid: number | undefined;
  qmgrRunning: boolean;
  qmgrPid: number | undefined;
  /** Seconds qmgr has been up; a small number over and over means it keeps respawning. */
  qmgrUptimeS: number | undefined;
  statusMessage: string;
}

const isMaster = (p: ProcessRow) =>
  p.comm === "master" || /\/postfix\/sbin\/master\b|(^|\/)master -/.test(p.args);

/**
 * Health from `postfix status`, the instance's master.pid and the process table. Several
 * instances may share a host, so qmgr must be a child of this instance's master.
 */
export function serviceHealth(
  status: PostfixStatus | undefined,
  ps: ProcessRow[],
  pidFilePid?: number,
): ServiceHealth {
  const alive = (pid: number | undefined) =>
    pid !== undefined && ps.some((p) => p.pid === pid && isMaster(p));
  let masterPid = [status?.masterPid, pidFilePid].find(alive);
  // Without status or pid file (no root), a lone master is the best evidence there is.
  if (masterPid === undefined && status === undefined && pidFilePid === undefined) {
    const masters = ps.filter(isMaster);
    if (masters.length === 1) masterPid = masters[0]?.pid;
  }
  if (status && !status.running) masterPid = undefined;
  const qmgr =
    masterPid === undefined ? undefined : ps.find((p) => p.ppid === masterPid && p.comm === "qmgr");
  return {
    masterRunning: masterPid !== undefined,
    masterPid,
    qmgrRunning: qmgr !== undefined,
    qmgrPid: qmgr?.pid,
    qmgrUptimeS: qmgr?.elapsedS,
    statusMessage: status?.message ?? "",
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
