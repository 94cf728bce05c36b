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
  parsePidFile,
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
  /** Connection and every probe but the listing answer within this. */
  timeoutMs: number;
  /** The full `postqueue -j` may take longer on a huge queue; defaults to timeoutMs. */
  listingTimeoutMs?: number;
  /**
   * When the listing is not done this long after the start, answer at once with the
   * directory counts and the causes read so far (marked partial); the full snapshot follows.
   */
  firstAnswerMs?: number;
  logLines: number;
  thresholds: Config["thresholds"];
  nowMs: () => number;
  top?: number;
  /** Told the entries read so far while a listing streams (a terminal's progress line). */
  onListing?: (relay: string, entriesRead: number) => void;
}

/** A first answer, and the full one when the first was partial. */
export interface Progressive {
  first: RelaySnapshot;
  full: Promise<RelaySnapshot> | null;
}

/** Keeps one SSH connection per relay and reuses it while it stays up. */
export class RunnerPool {
  private readonly runners = new Map<string, Promise<CommandRunner>>();

  constructor(
    private readonly localEnv: NodeJS.ProcessEnv = process.env,
    private readonly compression = true,
  ) {}

  get(relay: RelayConfig, timeoutMs: number): Promise<CommandRunner> {
    const cached = this.runners.get(relay.name);
    if (cached) return cached;
    const p: Promise<CommandRunner> =
      relay.kind === "local"
        ? Promise.resolve(new LocalRunner(relay.name, this.localEnv))
        : SshRunner.connect(relay, timeoutMs, this.compression);
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

/** Runs the probe catalogue on one relay, in parallel, all within the deadlines. Never throws. */
export async function collectRelayProgressive(
  relay: RelayConfig,
  pool: RunnerPool,
  opts: CollectOptions,
): Promise<Progressive> {
  const started = opts.nowMs();
  const top = opts.top ?? 5;
  const base: SnapshotParts = {
    relay: relay.name,
    takenAtMs: started,
    listingComplete: false,
    probeErrors: [],
    top,
  };
  let runner: CommandRunner;
  try {
    runner = await pool.get(relay, opts.timeoutMs);
  } catch (e) {
    return { first: buildSnapshot({ ...base, fatal: describeError(e) }), full: null };
  }
  const ctx: ProbeContext = {
    runner,
    sudo: relay.sudo,
    deadlineMs: started + opts.timeoutMs,
    nowMs: opts.nowMs,
  };
  const listingCtx: ProbeContext = {
    ...ctx,
    deadlineMs: started + Math.max(opts.timeoutMs, opts.listingTimeoutMs ?? 0),
  };
  const errors: ProbeError[] = [];
  const soft = <T>(p: Promise<T>, name: string): Promise<T | undefined> =>
    p.catch((e) => {
      errors.push(probeError(e, name));
      return undefined;
    });

  const acc = new QueueAccumulator(Math.floor(started / 1000));
  const onListing = opts.onListing;
  const ticker = onListing && setInterval(() => onListing(relay.name, acc.messagesRead), 250);
  const listing = probes.postqueue(listingCtx, acc).then(
    (r) => ({ complete: r.complete, error: undefined as string | undefined }),
    (e) => ({ complete: false, error: probeError(e, "postqueue -j").message }),
  );
  if (ticker)
    void listing.then(() => {
      clearInterval(ticker);
      onListing?.(relay.name, acc.messagesRead);
    });
  // Whether the listing finished by the first-answer point, judged at that point (from the start,
  // not after the other probes), so the early answer comes when configured.
  const firstAnswerMs = opts.firstAnswerMs;
  const doneByFirstAnswer =
    firstAnswerMs === undefined
      ? undefined
      : new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), Math.max(0, started + firstAnswerMs - opts.nowMs()));
          void listing.then(() => {
            clearTimeout(timer);
            resolve(true);
          });
        });
  const postconf = soft(probes.postconf(ctx), "postconf").then((r) =>
    r ? postfixSettings(parsePostconf(r.stdout)) : undefined,
  );
  const status = soft(probes.postfixStatus(ctx), "postfix status");
  const ps = soft(probes.ps(ctx), "ps");
  const loadavg = soft(probes.loadavg(ctx), "loadavg");
  const vmstat = soft(probes.vmstat(ctx), "vmstat");

  const settings = await postconf;
  const qdir = settings?.queueDirectory;
  const dfB = qdir ? soft(probes.dfBytes(ctx, qdir), "df -P") : undefined;
  const dfI = qdir ? soft(probes.dfInodes(ctx, qdir), "df -i") : undefined;
  const pidFile = qdir ? soft(probes.masterPid(ctx, qdir), "master.pid") : undefined;
  const log = settings
    ? soft(probes.maillog(ctx, settings.maillogFile, opts.logLines), "mail log")
    : undefined;

  // Counting the queue directories walks every queue file, competing with showq for the
  // disk and CPU; it runs only when the listing cannot answer alone (partial, timed out or failed).
  type Files = Record<QueueName, number | null> | null;
  let counting: Promise<Files> | undefined;
  const countFiles = (): Promise<Files> => {
    if (!qdir) return Promise.resolve(null);
    counting ??= (async () => {
      const countCtx: ProbeContext = { ...ctx, deadlineMs: opts.nowMs() + opts.timeoutMs };
      const fc = await Promise.all(
        QUEUE_NAMES.map((q) =>
          soft(probes.queueFiles(countCtx, qdir, q), `find ${q}`).then((n) => [q, n ?? null] as const),
        ),
      );
      return Object.fromEntries(fc) as Record<QueueName, number | null>;
    })();
    return counting;
  };

  const rest = (async (): Promise<Omit<Partial<SnapshotParts>, "queueFiles">> => {
    const [st, pss, la, vm, db, di, lg, pf] = await Promise.all([
      status,
      ps,
      loadavg,
      vmstat,
      dfB,
      dfI,
      log,
      pidFile,
    ]);
    const statusParsed = st ? parsePostfixStatus(st.stderr + st.stdout, st.code ?? 1) : undefined;
    const load = la ? parseLoadavg(la.stdout) : undefined;
    return {
      disk: qdir
        ? diskReport(
            qdir,
            db ? (parseDfP(db.stdout, 1024) ?? null) : null,
            di ? (parseDfP(di.stdout, 1) ?? null) : null,
            opts.thresholds,
          )
        : null,
      service: pss
        ? serviceHealth(statusParsed, parsePs(pss.stdout), pf ? parsePidFile(pf.stdout) : undefined)
        : null,
      load: load ? { ...load, iowaitPercent: vm ? (parseVmstatIowait(vm.stdout) ?? null) : null } : null,
      log: lg ? lg.summary(top) : null,
      postfix: settings
        ? {
            version: settings.mailVersion,
            maximalQueueLifetimeS: settings.maximalQueueLifetimeS ?? null,
            concurrency: settings.concurrency,
          }
        : null,
    };
  })();

  /** `partial`: the early answer, while the listing still runs. */
  type Listing = { complete: boolean; error: string | undefined; partial?: boolean };
  const assemble = async (l: Listing): Promise<RelaySnapshot> => {
    const queueFiles = l.complete ? null : await countFiles();
    const others = await rest;
    const probeErrors = [...errors];
    if (l.error !== undefined) probeErrors.push({ probe: "postqueue -j", message: l.error });
    else if (!l.complete && !l.partial)
      probeErrors.push({
        probe: "postqueue -j",
        message:
          "postqueue -j did not finish before the listing deadline; counts are from the queue directories",
      });
    return buildSnapshot({
      ...base,
      ...others,
      queueFiles,
      ...(l.error !== undefined
        ? {
            fatal: `the queue listing failed: ${l.error}. Check that Postfix is installed and the bot's user may run postqueue`,
          }
        : {}),
      queue: acc.summary(Math.max(10, top)),
      listingComplete: l.complete,
      probeErrors,
    });
  };

  // Without a first-answer point (status --wait-full), the first answer is the full one.
  if (doneByFirstAnswer === undefined || (await doneByFirstAnswer))
    return { first: await assemble(await listing), full: null };
  const first = await assemble({ complete: false, error: undefined, partial: true });
  return { first, full: listing.then(assemble) };
}

/** The whole snapshot, waiting for the full listing (bounded by its deadline). */
export async function collectRelay(
  relay: RelayConfig,
  pool: RunnerPool,
  opts: CollectOptions,
): Promise<RelaySnapshot> {
  // Without a first-answer point there is no partial answer: the first one is complete.
  return (await collectRelayProgressive(relay, pool, { ...opts, firstAnswerMs: undefined })).first;
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

/** Options for a status run, from the configuration. */
export function collectOptions(config: Config, nowMs: () => number): CollectOptions {
  return {
    timeoutMs: config.probes.timeout,
    listingTimeoutMs: config.probes.listingTimeout,
    firstAnswerMs: config.probes.firstAnswerAfter,
    logLines: config.probes.logLines,
    thresholds: config.thresholds,
    nowMs,
  };
}

/**
 * Every relay in parallel: the first answers (some may be partial), and the complete set
 * once every partial listing has finished — null when the first answers were all complete.
 */
export async function collectAllProgressive(
  relays: RelayConfig[],
  pool: RunnerPool,
  opts: CollectOptions,
): Promise<{ first: RelaySnapshot[]; full: Promise<RelaySnapshot[]> | null }> {
  const all = await Promise.all(relays.map((r) => collectRelayProgressive(r, pool, opts)));
  const first = all.map((p) => p.first);
  if (all.every((p) => p.full === null)) return { first, full: null };
  return { first, full: Promise.all(all.map((p) => p.full ?? Promise.resolve(p.first))) };
}
