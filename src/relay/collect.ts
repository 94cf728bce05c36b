import { QueueAccumulator } from "../analysis/queue-summary.js";
import {
  buildSnapshot,
  diskReport,
  type ProbeError,
  type RelaySnapshot,
  type SnapshotParts,
} from "../analysis/snapshot.js";
import type { Config, RelayConfig } from "../config.js";
import { describeError, MailqError } from "../errors.js";
import { parsePostconf, postfixSettings } from "../parsers/postconf.js";
import { QUEUE_NAMES, type QueueName } from "../parsers/postqueue.js";
import {
  parseDfP,
  parseLoadavg,
  parsePostfixStatus,
  parsePs,
  parseVmstatIowait,
  serviceHealth,
} from "../parsers/system.js";
import { LocalRunner } from "./local.js";
import { type ProbeContext, ProbeFailure, probes } from "./probes.js";
import type { CommandRunner } from "./runner.js";
import { SshRunner } from "./ssh.js";

export interface CollectOptions {
  timeoutMs: number;
  logLines: number;
  thresholds: Config["thresholds"];
  nowMs: () => number;
  top?: number;
}

/** Keeps one SSH connection per relay and reuses it while it stays up. */
export class RunnerPool {
  private readonly runners = new Map<string, Promise<CommandRunner>>();

  constructor(private readonly localEnv: NodeJS.ProcessEnv = process.env) {}

  get(relay: RelayConfig, timeoutMs: number): Promise<CommandRunner> {
    const cached = this.runners.get(relay.name);
    if (cached) return cached;
    const p: Promise<CommandRunner> =
      relay.kind === "local"
        ? Promise.resolve(new LocalRunner(relay.name, this.localEnv))
        : SshRunner.connect(relay, timeoutMs);
    this.runners.set(relay.name, p);
    p.then(
      (r) => {
        if (r instanceof SshRunner) {
          // Forget a connection once it drops, so that the next request reconnects.
          const check = setInterval(() => {
            if (!r.connected) {
              if (this.runners.get(relay.name) === p) this.runners.delete(relay.name);
              clearInterval(check);
            }
          }, 5000);
          check.unref();
        }
      },
      () => this.runners.delete(relay.name),
    );
    return p;
  }

  async closeAll(): Promise<void> {
    const all = [...this.runners.values()];
    this.runners.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          (r) => r.close(),
          () => {},
        ),
      ),
    );
  }
}

function probeError(e: unknown, fallback: string): ProbeError {
  if (e instanceof ProbeFailure) return { probe: e.probe, message: e.message };
  return { probe: fallback, message: describeError(e) };
}

/** Runs the probe catalogue on one relay, in parallel, all within `timeoutMs`. Never throws. */
export async function collectRelay(
  relay: RelayConfig,
  pool: RunnerPool,
  opts: CollectOptions,
): Promise<RelaySnapshot> {
  const started = opts.nowMs();
  const base: SnapshotParts = {
    relay: relay.name,
    takenAtMs: started,
    listingComplete: false,
    probeErrors: [],
    top: opts.top ?? 5,
  };
  let runner: CommandRunner;
  try {
    runner = await pool.get(relay, opts.timeoutMs);
  } catch (e) {
    return buildSnapshot({ ...base, fatal: describeError(e) });
  }
  const ctx: ProbeContext = {
    runner,
    sudo: relay.sudo,
    deadlineMs: started + opts.timeoutMs,
    nowMs: opts.nowMs,
  };
  const errors: ProbeError[] = [];
  const soft = <T>(p: Promise<T>, name: string): Promise<T | undefined> =>
    p.catch((e) => {
      errors.push(probeError(e, name));
      return undefined;
    });

  const acc = new QueueAccumulator(Math.floor(started / 1000));
  const listing = probes.postqueue(ctx, acc).then(
    (r) => ({ complete: r.complete, error: undefined as string | undefined }),
    (e) => ({ complete: false, error: probeError(e, "postqueue -j").message }),
  );
  const postconf = soft(probes.postconf(ctx), "postconf").then((r) =>
    r ? postfixSettings(parsePostconf(r.stdout)) : undefined,
  );
  const status = soft(probes.postfixStatus(ctx), "postfix status");
  const ps = soft(probes.ps(ctx), "ps");
  const loadavg = soft(probes.loadavg(ctx), "loadavg");
  const vmstat = soft(probes.vmstat(ctx), "vmstat");

  const settings = await postconf;
  const qdir = settings?.queueDirectory;
  const files = qdir
    ? Promise.all(
        QUEUE_NAMES.map((q) =>
          soft(probes.queueFiles(ctx, qdir, q), `find ${q}`).then((n) => [q, n ?? null] as const),
        ),
      )
    : Promise.resolve(undefined);
  const dfB = qdir ? soft(probes.dfBytes(ctx, qdir), "df -P") : undefined;
  const dfI = qdir ? soft(probes.dfInodes(ctx, qdir), "df -i") : undefined;
  const log = settings
    ? soft(probes.maillog(ctx, settings.maillogFile, opts.logLines), "mail log")
    : undefined;

  const [l, st, pss, la, vm, fc, db, di, lg] = await Promise.all([
    listing,
    status,
    ps,
    loadavg,
    vmstat,
    files,
    dfB,
    dfI,
    log,
  ]);

  if (l.error !== undefined && errors.every((e) => e.probe !== "postqueue -j"))
    errors.push({ probe: "postqueue -j", message: l.error });
  const statusParsed = st ? parsePostfixStatus(st.stderr + st.stdout, st.code ?? 1) : undefined;
  const queueFiles = fc ? (Object.fromEntries(fc) as Record<QueueName, number | null>) : null;
  const load = la ? parseLoadavg(la.stdout) : undefined;
  return buildSnapshot({
    ...base,
    ...(l.error !== undefined
      ? {
          fatal: `${relay.name}: the queue listing failed: ${l.error}. Check that Postfix is installed and the bot's user may run postqueue`,
        }
      : {}),
    queue: acc.summary(opts.top ?? 10),
    listingComplete: l.complete,
    queueFiles,
    disk: qdir
      ? diskReport(
          qdir,
          db ? (parseDfP(db.stdout, 1024) ?? null) : null,
          di ? (parseDfP(di.stdout, 1) ?? null) : null,
          opts.thresholds,
        )
      : null,
    service: pss ? serviceHealth(statusParsed, parsePs(pss.stdout)) : null,
    load: load ? { ...load, iowaitPercent: vm ? (parseVmstatIowait(vm.stdout) ?? null) : null } : null,
    log: lg ? lg.summary(opts.top ?? 5) : null,
    postfix: settings
      ? {
          version: settings.mailVersion,
          maximalQueueLifetimeS: settings.maximalQueueLifetimeS ?? null,
          concurrency: settings.concurrency,
        }
      : null,
    probeErrors: errors,
  });
}

export function selectRelays(config: Config, name: string | undefined): RelayConfig[] {
  if (name === undefined) return config.relays;
  const r = config.relays.find((x) => x.name === name);
  if (!r)
    throw new MailqError("RELAY_UNKNOWN", `unknown relay "${name}"`, {
      hint: `Known relays: ${config.relays.map((x) => x.name).join(", ")}`,
    });
  return [r];
}

/** Every relay in parallel; one failing never hides the others. */
export function collectAll(
  relays: RelayConfig[],
  pool: RunnerPool,
  opts: CollectOptions,
): Promise<RelaySnapshot[]> {
  return Promise.all(relays.map((r) => collectRelay(r, pool, opts)));
}
