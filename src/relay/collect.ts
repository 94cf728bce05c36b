import { QueueAccumulator } from "../analysis/queue-summary.js";
import {
  buildSnapshot,
  masterDown,
  type ProbeError,
  type RelaySnapshot,
  type SnapshotParts,
} from "../analysis/snapshot.js";
import type { Config, RelayConfig } from "../config.js";
import { describeError, MailqError } from "../errors.js";
import { isPlainAbsolutePath } from "../parsers/path.js";
import { parsePostconf, postfixSettings } from "../parsers/postconf.js";
import type { QueueName } from "../parsers/postqueue.js";
import { type Lease, RunnerPool } from "./pool.js";
import { type ProbeContext, ProbeFailure, probes } from "./probes.js";
import { type SystemParts, startQueueDirProbes, startSystemProbes, systemParts } from "./system-probes.js";

export { RunnerPool };

export interface CollectOptions {
  /** Connection and every probe but the listing answer within this. */
  timeoutMs: number;
  /** The full `postqueue -j` may take longer on a huge queue; defaults to timeoutMs. */
  listingTimeoutMs?: number;
  /**
   * When the listing is not done this long after the start, answer as soon as the directory
   * counts and the other probes are in (marked partial, causes from the mail log); the full
   * snapshot follows. Undefined (status --wait-full): one complete answer.
   */
  firstAnswerMs?: number;
  logLines: number;
  thresholds: Config["thresholds"];
  nowMs: () => number;
  top?: number;
  /** Told the entries read so far while a listing streams (a terminal's progress line). */
  onListing?: (relay: string, entriesRead: number) => void;
  /**
   * Each relay's queue directory as its last snapshot found it. With it, the directory counts start
   * with the listing instead of after postconf's answer: on a relay whose login costs a second per
   * SSH command, that is a second off the first card. Postconf still decides: a count of any other
   * directory is thrown away and taken again.
   */
  queueDirectories?: ReadonlyMap<string, string>;
}

/** A first answer, and the full one when the first was partial. */
export interface Progressive {
  first: RelaySnapshot;
  full: Promise<RelaySnapshot> | null;
  /** The snapshot as it stands now: partial while the listing runs, for updating a card in place. */
  current: () => Promise<RelaySnapshot>;
}

type Files = Record<QueueName, number | null> | null;
/** `partial`: an answer while the listing still runs. */
type Listing = { complete: boolean; error: string | undefined; partial?: boolean };

function probeError(e: unknown, fallback: string): ProbeError {
  if (e instanceof ProbeFailure) return { probe: e.probe, message: e.message };
  return { probe: fallback, message: describeError(e) };
}

/** Resolves true once `p` settles, or false after `ms`, whichever is first. */
function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, ms));
    void p.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The listing, streamed into `acc`; never rejects. */
function startListing(ctx: ProbeContext, acc: QueueAccumulator): Promise<Listing> {
  return probes.postqueue(ctx, acc).then(
    (r) => ({ complete: r.complete, error: undefined }),
    (e) => ({ complete: false, error: probeError(e, "postqueue -j").message }),
  );
}

/**
 * Runs the probe catalogue on one relay within the deadlines, as named tasks started at once:
 * the listing, postconf, then (with the queue directory known) ONE command counting every queue
 * directory, df, the master PID and the mail log's tail. Never throws.
 */
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
  let lease: Lease;
  try {
    lease = await pool.lease(relay, opts.timeoutMs);
  } catch (e) {
    const first = buildSnapshot({ ...base, fatal: describeError(e) });
    return { first, full: null, current: async () => first };
  }
  const ctx: ProbeContext = {
    runner: lease.runner,
    sudo: relay.sudo,
    deadlineMs: started + opts.timeoutMs,
    nowMs: opts.nowMs,
  };
  const errors: ProbeError[] = [];
  const soft = <T>(name: string, p: Promise<T>): Promise<T | undefined> =>
    p.catch((e) => {
      errors.push(probeError(e, name));
      return undefined;
    });

  const acc = new QueueAccumulator(Math.floor(started / 1000));
  const listingCtx = { ...ctx, deadlineMs: started + Math.max(opts.timeoutMs, opts.listingTimeoutMs ?? 0) };
  const listing = startListing(listingCtx, acc);
  const onListing = opts.onListing;
  if (onListing) {
    const ticker = setInterval(() => onListing(relay.name, acc.messagesRead), 250);
    void listing.then(() => {
      clearInterval(ticker);
      onListing(relay.name, acc.messagesRead);
    });
  }
  // Whether the listing finished by the first-answer point, judged at that point from the start.
  const firstAnswerMs = opts.firstAnswerMs;
  const doneByFirstAnswer =
    firstAnswerMs === undefined ? undefined : settledWithin(listing, started + firstAnswerMs - opts.nowMs());
  const system = startSystemProbes(ctx, soft);
  const count = (dir: string) =>
    probes.queueFiles({ ...ctx, deadlineMs: opts.nowMs() + opts.timeoutMs }, dir);
  // Asked for a first answer, the counts start at once with the remembered directory, beside postconf.
  const remembered = opts.queueDirectories?.get(relay.name);
  const early =
    opts.firstAnswerMs !== undefined && remembered !== undefined && isPlainAbsolutePath(remembered)
      ? { dir: remembered, files: count(remembered) }
      : undefined;
  // A count of a directory postconf does not name is dropped, its failure with it.
  early?.files.catch(() => {});
  const settings = await soft("postconf", probes.postconf(ctx)).then((r) =>
    r ? postfixSettings(parsePostconf(r.stdout)) : undefined,
  );
  const qdir = settings?.queueDirectory;

  // The directory counts answer while a big listing streams. Asked for a first answer, they start
  // at once, next to the listing; with --wait-full only when the listing cannot answer alone,
  // since walking every queue file competes with showq for the disk. Only a count of the directory
  // postconf names is kept.
  let counting: Promise<Files> | undefined;
  const countFiles = (): Promise<Files> => {
    counting ??= qdir
      ? soft("find queues", early?.dir === qdir ? early.files : count(qdir)).then((c) => c ?? null)
      : Promise.resolve(null);
    return counting;
  };
  if (opts.firstAnswerMs !== undefined) void countFiles();
  const rest: Promise<SystemParts> = systemParts(
    system,
    startQueueDirProbes(ctx, soft, settings, opts.logLines),
    { settings, thresholds: opts.thresholds, top },
  );

  const assemble = async (l: Listing): Promise<RelaySnapshot> => {
    const queueFiles = l.complete ? null : await countFiles();
    const others = await rest;
    const probeErrors = [...errors];
    // postqueue cannot list while master is stopped: that is the relay's answer (Postfix is down),
    // with the counts from the queue directories, not a relay that did not answer.
    const postfixDown = l.error !== undefined && masterDown(others);
    if (postfixDown)
      probeErrors.push({
        probe: "postqueue -j",
        message: `Postfix's master is not running, so postqueue -j cannot list the queue (${l.error}); counts are from the queue directories`,
      });
    else if (l.error !== undefined) probeErrors.push({ probe: "postqueue -j", message: l.error });
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
      ...(l.error !== undefined && !postfixDown
        ? {
            fatal: `the queue listing failed: ${l.error}. Check that Postfix is installed and the bot's user may run postqueue`,
          }
        : {}),
      queue: acc.summary(Math.max(10, top)),
      listingComplete: l.complete,
      probeErrors,
    });
  };
  const final = listing.then(assemble);
  void final.finally(lease.release);
  let done: RelaySnapshot | undefined;
  void final.then((s) => {
    done = s;
  });
  const current = async () => done ?? assemble({ complete: false, error: undefined, partial: true });

  // Without a first-answer point (status --wait-full), the first answer is the full one; so is a
  // listing done by that point. Else the counts (started with the listing) and the other probes
  // make a partial one, and the full one follows.
  if (doneByFirstAnswer === undefined || (await doneByFirstAnswer))
    return { first: await final, full: null, current };
  return {
    first: await assemble({ complete: false, error: undefined, partial: true }),
    full: final,
    current,
  };
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

/** Every relay, at most the pool's bound at once; one failing never hides the others. */
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

/** Every relay's answers at once: first, full (null when every first was complete), and now. */
export interface FleetProgressive {
  first: RelaySnapshot[];
  full: Promise<RelaySnapshot[]> | null;
  current: () => Promise<RelaySnapshot[]>;
}

/**
 * Every relay in parallel (within the pool's bound): the first answers (some may be partial),
 * the complete set once every partial listing has finished, and the set as it stands now.
 */
export async function collectAllProgressive(
  relays: RelayConfig[],
  pool: RunnerPool,
  opts: CollectOptions,
): Promise<FleetProgressive> {
  const all = await Promise.all(relays.map((r) => collectRelayProgressive(r, pool, opts)));
  const first = all.map((p) => p.first);
  const current = () => Promise.all(all.map((p) => p.current()));
  if (all.every((p) => p.full === null)) return { first, full: null, current };
  return { first, full: Promise.all(all.map((p) => p.full ?? Promise.resolve(p.first))), current };
}
