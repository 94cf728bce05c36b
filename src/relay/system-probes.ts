import { diskReport, type SnapshotParts } from "../analysis/snapshot.js";
import type { Config } from "../config.js";
import type { PostfixSettings } from "../parsers/postconf.js";
import {
  parseDfP,
  parseLoadavg,
  parsePidFile,
  parsePostfixStatus,
  parsePs,
  parseVmstatIowait,
  serviceHealth,
} from "../parsers/system.js";
import { type ProbeContext, probes } from "./probes.js";

/** Runs a probe; a failure is recorded under its name and the answer is undefined. */
export type Soft = <T>(name: string, p: Promise<T>) => Promise<T | undefined>;

/** The probes that need nothing from the relay first, each under its name. */
export function startSystemProbes(ctx: ProbeContext, soft: Soft) {
  return {
    postfixStatus: soft("postfix status", probes.postfixStatus(ctx)),
    ps: soft("ps", probes.ps(ctx)),
    loadavg: soft("loadavg", probes.loadavg(ctx)),
    vmstat: soft("vmstat", probes.vmstat(ctx)),
  };
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
    masterPid: qdir ? soft("master.pid", probes.masterPid(ctx, qdir)) : undefined,
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
  const st = await system.postfixStatus;
  const ps = await system.ps;
  const la = await system.loadavg;
  const vm = await system.vmstat;
  const dfB = await queueDir.dfBytes;
  const dfI = await queueDir.dfInodes;
  const pid = await queueDir.masterPid;
  const log = await queueDir.maillog;
  const statusParsed = st ? parsePostfixStatus(st.stderr + st.stdout, st.code ?? 1) : undefined;
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
    service: ps
      ? serviceHealth(statusParsed, parsePs(ps.stdout), pid ? parsePidFile(pid.stdout) : undefined)
      : null,
    load: load ? { ...load, iowaitPercent: vm ? (parseVmstatIowait(vm.stdout) ?? null) : null } : null,
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
