import type { RelaySnapshot } from "../analysis/snapshot.js";
import type { Config } from "../config.js";
import { RunnerPool } from "../relay/collect.js";
import type { CommandRunner, RunOptions, RunResult } from "../relay/runner.js";
import type { Store } from "../store/store.js";
import { type Counter, type Gauge, type Histogram, Registry } from "./registry.js";

/** Reason texts are label values: long ones are cut so that a series stays readable. */
export const MAX_REASON_LABEL = 200;
/** At most this many causes per relay (the snapshot's top list), so the label set stays bounded. */
export const MAX_REASONS_PER_RELAY = 5;

export const PROBE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface MailqMetrics {
  registry: Registry;
  queueMessages: Gauge;
  deferralReasonRecipients: Gauge;
  probeDuration: Histogram;
  probeFailures: Counter;
  relayUp: Gauge;
  approvalsPending: Gauge;
  approvalsExecuted: Counter;
  /** Reads pending approvals from the store at scrape time (replaces any earlier store). */
  watchStore(store: Store): void;
}

export function createMailqMetrics(): MailqMetrics {
  const registry = new Registry();
  let store: Store | undefined;
  const m: MailqMetrics = {
    registry,
    queueMessages: registry.gauge(
      "mailq_queue_messages",
      "Messages in each Postfix queue at the last snapshot",
      ["relay", "queue"],
    ),
    deferralReasonRecipients: registry.gauge(
      "mailq_deferral_reason_recipients",
      `Recipients deferred for each of the top ${MAX_REASONS_PER_RELAY} causes at the last complete listing`,
      ["relay", "class", "reason"],
    ),
    probeDuration: registry.histogram(
      "mailq_probe_duration_seconds",
      "Time each probe command took on a relay",
      ["relay", "probe"],
      PROBE_BUCKETS,
    ),
    probeFailures: registry.counter(
      "mailq_probe_failures_total",
      "Probes that failed (connect: the relay could not be reached at all)",
      ["relay", "probe"],
    ),
    relayUp: registry.gauge("mailq_relay_up", "1 when the last snapshot of the relay succeeded", ["relay"]),
    approvalsPending: registry.gauge("mailq_approvals_pending", "Approval requests waiting for a decision"),
    approvalsExecuted: registry.counter(
      "mailq_approvals_executed_total",
      "Approved actions this process executed, by action and outcome",
      ["action", "outcome"],
    ),
    watchStore(s: Store) {
      store = s;
    },
  };
  registry.onCollect(async () => {
    if (store) m.approvalsPending.set({}, (await store.approvals.pending()).length);
  });
  return m;
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
  m.relayUp.set({ relay }, s.ok ? 1 : 0);
  if (!s.ok) {
    if (countFailures) m.probeFailures.inc({ relay, probe: "connect" });
    m.queueMessages.remove({ relay });
    m.deferralReasonRecipients.remove({ relay });
    return;
  }
  if (countFailures) for (const e of s.probeErrors) m.probeFailures.inc({ relay, probe: e.probe });
  for (const [queue, n] of Object.entries(s.queues)) m.queueMessages.set({ relay, queue }, n);
  if (s.listing.complete) {
    m.deferralReasonRecipients.remove({ relay });
    for (const r of s.topReasons.slice(0, MAX_REASONS_PER_RELAY))
      m.deferralReasonRecipients.set({ relay, class: r.class, reason: reasonLabel(r.reason) }, r.count);
  }
}

export type ExecutionOutcome = "done" | "failed";

/** The approval engine calls this once per action it executed. */
export function recordApprovalExecuted(m: MailqMetrics, action: string, outcome: ExecutionOutcome): void {
  m.approvalsExecuted.inc({ action, outcome });
}

/**
 * The probe a command belongs to, named as in the snapshot's probeErrors (src/relay/probes.ts),
 * so that durations and failures share labels. Commands outside the catalogue are named by
 * their program, which keeps the label set as small as the set of programs the bot runs.
 */
export function probeName(argv: readonly string[]): string {
  const a = argv[0] === "sudo" ? argv.slice(argv[1] === "-n" ? 2 : 1) : argv;
  const [cmd = "", first = ""] = a;
  const last = a.at(-1) ?? "";
  switch (cmd) {
    case "postqueue":
      return first === "-j" ? "postqueue -j" : "postqueue";
    case "find": {
      const queue = first.split("/").filter(Boolean).at(-1);
      return queue && /^[a-z]+$/.test(queue) ? `find ${queue}` : "find";
    }
    case "df":
      return a.includes("-i") ? "df -i" : "df -P";
    case "postfix":
      return first === "status" ? "postfix status" : "postfix";
    case "cat":
      if (last.endsWith("/master.pid")) return "master.pid";
      if (last === "/proc/loadavg") return "loadavg";
      return "cat";
    case "tail":
    case "journalctl":
      return "mail log";
    default:
      return cmd.split("/").at(-1) || "unknown";
  }
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
        m.probeDuration.observe({ relay: r.relay, probe: probeName(argv) }, (nowMs() - t0) / 1000);
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
  override get(...args: Parameters<RunnerPool["get"]>): Promise<CommandRunner> {
    return super.get(...args).then((r) => meteredRunner(this.metrics, r));
  }
}
