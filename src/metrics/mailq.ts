import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { masterDown, type RelaySnapshot } from "../analysis/snapshot.js";
import type { Config } from "../config.js";
import { RunnerPool } from "../relay/collect.js";
import { type CommandRunner, programName, type RunOptions, type RunResult } from "../relay/runner.js";
import type { Store } from "../store/store.js";

/** Reason texts are label values: long ones are cut so that a series stays readable. */
export const MAX_REASON_LABEL = 200;
/** At most this many causes per relay (the snapshot's top list), so the label set stays bounded. */
export const MAX_REASONS_PER_RELAY = 5;

export const PROBE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** What the last snapshot of a relay said; the queue and cause gauges are drawn from it at scrape time. */
interface RelayView {
  queues?: Record<string, number>;
  reasons?: { class: string; reason: string; count: number }[];
}

export interface MailqMetrics {
  /** This app's own registry (never prom-client's global one), with the process and Node metrics. */
  registry: Registry;
  queueMessages: Gauge<"relay" | "queue">;
  deferralReasonRecipients: Gauge<"relay" | "class" | "reason">;
  probeDuration: Histogram<"relay" | "probe">;
  probeFailures: Counter<"relay" | "probe">;
  relayUp: Gauge<"relay">;
  approvalsPending: Gauge;
  approvalsExecuted: Counter<"action" | "outcome">;
  /** Reads pending approvals from the store at scrape time (replaces any earlier store). */
  watchStore(store: Store): void;
  /** The exposition; a failed store read is reported and the rest is served. */
  render(onError?: (e: unknown) => void): Promise<string>;
  /** Per relay, what the queue and cause gauges show (recordSnapshot keeps it). */
  readonly relays: Map<string, RelayView>;
}

export function createMailqMetrics(): MailqMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const relays = new Map<string, RelayView>();
  let store: Store | undefined;
  const approvalsPending = new Gauge({
    name: "mailq_approvals_pending",
    help: "Approval requests waiting for a decision",
    registers,
  });
  return {
    registry,
    relays,
    queueMessages: new Gauge({
      name: "mailq_queue_messages",
      help: "Messages in each Postfix queue at the last snapshot",
      labelNames: ["relay", "queue"],
      registers,
      collect() {
        this.reset();
        for (const [relay, v] of relays)
          for (const [queue, n] of Object.entries(v.queues ?? {})) this.set({ relay, queue }, n);
      },
    }),
    deferralReasonRecipients: new Gauge({
      name: "mailq_deferral_reason_recipients",
      help: `Recipients deferred for each of the top ${MAX_REASONS_PER_RELAY} causes at the last complete listing`,
      labelNames: ["relay", "class", "reason"],
      registers,
      collect() {
        this.reset();
        for (const [relay, v] of relays)
          for (const r of v.reasons ?? []) this.set({ relay, class: r.class, reason: r.reason }, r.count);
      },
    }),
    probeDuration: new Histogram({
      name: "mailq_probe_duration_seconds",
      help: "Time each probe command took on a relay",
      labelNames: ["relay", "probe"],
      buckets: PROBE_BUCKETS,
      registers,
    }),
    probeFailures: new Counter({
      name: "mailq_probe_failures_total",
      help: "Probes that failed (connect: the relay could not be reached at all)",
      labelNames: ["relay", "probe"],
      registers,
    }),
    relayUp: new Gauge({
      name: "mailq_relay_up",
      help: "1 when the last snapshot of the relay succeeded",
      labelNames: ["relay"],
      registers,
    }),
    approvalsPending,
    approvalsExecuted: new Counter({
      name: "mailq_approvals_executed_total",
      help: "Approved actions this process executed, by action and outcome",
      labelNames: ["action", "outcome"],
      registers,
    }),
    watchStore(s: Store) {
      store = s;
    },
    async render(onError) {
      // Read here rather than in a collect(): a store that does not answer must not fail the scrape.
      try {
        if (store) approvalsPending.set((await store.approvals.pending()).length);
      } catch (e) {
        onError?.(e);
      }
      return registry.metrics();
    },
  };
}

/** The process-wide metrics that the bot serves at /metrics. */
export const mailqMetrics: MailqMetrics = createMailqMetrics();

/** Seeds every configured relay as down-until-seen, so that /metrics lists them from the start. */
export function registerRelays(m: MailqMetrics, config: Pick<Config, "relays">): void {
  for (const r of config.relays) m.relayUp.set({ relay: r.name }, 0);
}

function reasonLabel(reason: string): string {
  return reason.length > MAX_REASON_LABEL ? `${reason.slice(0, MAX_REASON_LABEL - 1)}…` : reason;
}

/**
 * Feeds one snapshot into the metrics (status and watch call this for each snapshot they take).
 * A failed relay drops its queue and cause series (stale numbers would look current); a partial
 * listing updates the queue counts (they come from the queue directories) but keeps the last
 * complete causes. `countFailures: false` for a partial first answer whose full snapshot
 * (with the same probe failures) is recorded later.
 */
export function recordSnapshot(m: MailqMetrics, s: RelaySnapshot, o: { countFailures?: boolean } = {}): void {
  const relay = s.relay;
  const countFailures = o.countFailures ?? true;
  // A relay whose Postfix is stopped answers (its queue is counted below) but delivers nothing: down.
  m.relayUp.set({ relay }, s.ok && !masterDown(s) ? 1 : 0);
  if (!s.ok) {
    if (countFailures) m.probeFailures.inc({ relay, probe: "connect" });
    m.relays.delete(relay);
    return;
  }
  if (countFailures) for (const e of s.probeErrors) m.probeFailures.inc({ relay, probe: e.probe });
  const view: RelayView = { ...m.relays.get(relay), queues: { ...s.queues } };
  if (s.listing.complete)
    view.reasons = s.topReasons
      .slice(0, MAX_REASONS_PER_RELAY)
      .map((r) => ({ class: r.class, reason: reasonLabel(r.reason), count: r.count }));
  m.relays.set(relay, view);
}

export type ExecutionOutcome = "done" | "failed";

/** The approval engine calls this once per action it executed. */
export function recordApprovalExecuted(m: MailqMetrics, action: string, outcome: ExecutionOutcome): void {
  m.approvalsExecuted.inc({ action, outcome });
}

/** A runner that times every command into mailq_probe_duration_seconds. */
export function meteredRunner(
  m: MailqMetrics,
  r: CommandRunner,
  nowMs: () => number = performance.now.bind(performance),
): CommandRunner {
  return {
    get relay() {
      return r.relay;
    },
    async run(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
      const t0 = nowMs();
      try {
        return await r.run(argv, opts);
      } finally {
        m.probeDuration.observe(
          { relay: r.relay, probe: opts.probe ?? programName(argv) },
          (nowMs() - t0) / 1000,
        );
      }
    },
    close: () => r.close(),
  };
}

/** The bot's RunnerPool, with every command timed into the metrics. */
export class MeteredRunnerPool extends RunnerPool {
  constructor(
    private readonly metrics: MailqMetrics,
    ...args: ConstructorParameters<typeof RunnerPool>
  ) {
    super(...args);
  }
  protected override wrap(r: Promise<CommandRunner>): Promise<CommandRunner> {
    return r.then((x) => meteredRunner(this.metrics, x));
  }
}
