import { diskReport, type LoadReport, type SnapshotParts } from "../analysis/snapshot.js";
import type { Config } from "../config.js";
import { describeError } from "../errors.js";
import type { PostfixSettings } from "../parsers/postconf.js";
import {
  type MasterPidFile,
  parseDfP,
  parseIoPressure,
  parseLoadavg,
  parsePidFile,
  parsePs,
  parseVmstatIowait,
  serviceHealth,
} from "../parsers/system.js";
import { type ProbeContext, ProbeFailure, probes } from "./probes.js";

/** Runs a probe; a failure is recorded under its name and the answer is undefined. */
export type Soft = <T>(name: string, p: Promise<T>) => Promise<T | undefined>;

type IoStall = Omit<LoadReport, "load1" | "load5" | "load15">;

/**
 * How stalled the relay is on I/O: PSI's /proc/pressure/io, which answers at once. Only where it
 * does not (a kernel without PSI or booted with psi=0, a gate that predates it, unreadable output)
 * `vmstat 1 2`, which holds the connection a second. PSI's absence is no probe error; vmstat's
 * failure is.
 */
async function ioStall(ctx: ProbeContext, soft: Soft): Promise<IoStall> {
  const psi = await probes.ioPressure(ctx).then(
    (r) => parseIoPressure(r.stdout),
    (e: unknown) => ({ ok: false as const, error: describeError(e) }),
  );
  if (psi.ok)
    return {
      ioPressurePercent: psi.value.someAvg10,
      ioPressureFullPercent: psi.value.fullAvg10,
      iowaitPercent: null,
    };
  // Only when neither answers is there a problem to name, and then both reasons.
  const vmstat = probes.vmstat(ctx).catch((e: unknown) => {
    throw new ProbeFailure(
      "vmstat",
      `${describeError(e)} (/proc/pressure/io did not answer either: ${psi.error})`,
    );
  });
  const vm = await soft("vmstat", vmstat);
  return {
    ioPressurePercent: null,
    ioPressureFullPercent: null,
    iowaitPercent: vm ? (parseVmstatIowait(vm.stdout) ?? null) : null,
  };
}

/** The probes that need nothing from the relay first, each under its name, all started at once. */
export function startSystemProbes(ctx: ProbeContext, soft: Soft) {
  return {
    ps: soft("ps", probes.ps(ctx)),
    loadavg: soft("loadavg", probes.loadavg(ctx)),
    io: ioStall(ctx, soft),
  };
}

/**
 * The instance's master.pid. No such file is an answer (this instance's master is not up), not
 * a failure; unreadable (no root) is a failure, and then the process table must do alone.
 */
function masterPidFile(ctx: ProbeContext, qdir: string): Promise<MasterPidFile> {
  return probes.masterPid(ctx, qdir).then(
    (r): MasterPidFile => ({ found: true, pid: parsePidFile(r.stdout) }),
    (e: unknown): MasterPidFile => {
      if (e instanceof ProbeFailure && /No such file or directory/.test(e.message)) return { found: false };
      throw e;
    },
  );
}

/** The probes that need the relay's queue directory or mail log, each under its name. */
export function startQueueDirProbes(
  ctx: ProbeContext,
  soft: Soft,
  settings: PostfixSettings | undefined,
  logLines: number,
) {
  const qdir = settings?.queueDirectory || undefined;
  return {
    qdir,
    dfBytes: qdir ? soft("df -P", probes.dfBytes(ctx, qdir)) : undefined,
    dfInodes: qdir ? soft("df -i", probes.dfInodes(ctx, qdir)) : undefined,
    masterPid: qdir ? soft("master.pid", masterPidFile(ctx, qdir)) : undefined,
    maillog: settings ? soft("mail log", probes.maillog(ctx, settings.maillogFile, logLines)) : undefined,
  };
}

export type SystemParts = Omit<Partial<SnapshotParts>, "queueFiles">;

/** Everything but the listing and the counts, once its probes have answered. */
export async function systemParts(
  system: ReturnType<typeof startSystemProbes>,
  queueDir: ReturnType<typeof startQueueDirProbes>,
  o: { settings: PostfixSettings | undefined; thresholds: Config["thresholds"]; top: number },
): Promise<SystemParts> {
  const ps = await system.ps;
  const la = await system.loadavg;
  const io = await system.io;
  const dfB = await queueDir.dfBytes;
  const dfI = await queueDir.dfInodes;
  const pid = await queueDir.masterPid;
  const log = await queueDir.maillog;
  const load = la ? parseLoadavg(la.stdout) : undefined;
  const qdir = queueDir.qdir;
  const s = o.settings;
  return {
    disk: qdir
      ? diskReport(
          qdir,
          dfB ? (parseDfP(dfB.stdout, 1024) ?? null) : null,
          dfI ? (parseDfP(dfI.stdout, 1) ?? null) : null,
          o.thresholds,
        )
      : null,
    service: ps ? (serviceHealth(parsePs(ps.stdout), pid) ?? null) : null,
    load: load ? { ...load, ...io } : null,
    log: log ? log.summary(o.top) : null,
    postfix: s
      ? {
          version: s.mailVersion,
          maximalQueueLifetimeS: s.maximalQueueLifetimeS ?? null,
          concurrency: s.concurrency,
        }
      : null,
  };
}
