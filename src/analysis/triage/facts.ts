import type { WarningKind, WarningSummary } from "../../parsers/maillog-warnings.js";
import type { DestinationFacts, LogFacts } from "../log-facts.js";
import type { RelaySnapshot } from "../snapshot.js";
import { findingClassOf } from "./classes.js";
import { plural, warningEvidence } from "./format.js";
import type { FindingClass, TriageInput } from "./types.js";

/** The queue's deferrals of one class: what the rules turn into one finding. */
export interface DeferralGroup {
  cls: FindingClass;
  recipients: number;
  /** Reason lines with their counts, then (local-service) the milter and policy warnings. */
  rows: string[];
  /** Queued destinations whose log deferrals are mostly of this class, with their recipients. */
  domains: Map<string, number>;
}

/** What every rule reads: the input, and what is derived from it once. */
export interface TriageFacts {
  input: TriageInput;
  snapshot: RelaySnapshot;
  log: LogFacts | null;
  settings: Record<string, string>;
  warnings: WarningSummary[];
  /** The queue's recipients, at least 1: the denominator of every share. */
  recipients: number;
  /** In the order their classes first appear among the queue's reasons. */
  deferrals: DeferralGroup[];
  /** Deferral reasons no class explains. */
  unexplained: { reason: string; recipients: number }[];
}

export const warningOf = (f: TriageFacts, kind: WarningKind): WarningSummary | undefined =>
  f.warnings.find((w) => w.kind === kind);
export const queuedFor = (f: TriageFacts, domain: string): number =>
  f.snapshot.topDomains.find((d) => d.domain === domain)?.count ?? 0;
export const destinationFacts = (f: TriageFacts, domain: string): DestinationFacts | undefined =>
  f.log?.destinations.find((d) => d.domain === domain);

export function triageFacts(input: TriageInput): TriageFacts {
  const s = input.snapshot;
  const f: TriageFacts = {
    input,
    snapshot: s,
    log: input.log,
    settings: s.postfix?.concurrency ?? {},
    warnings: input.log?.warnings ?? [],
    recipients: Math.max(1, s.recipients),
    deferrals: [],
    unexplained: [],
  };
  groupDeferrals(f);
  return f;
}

/** The queue's reasons by class, with their destinations; a milter alarm is local-service even with nothing queued. */
function groupDeferrals(f: TriageFacts): void {
  const groups = new Map<FindingClass, DeferralGroup>();
  const group = (cls: FindingClass) => {
    let g = groups.get(cls);
    if (!g) {
      g = { cls, recipients: 0, rows: [], domains: new Map() };
      groups.set(cls, g);
    }
    return g;
  };
  for (const r of f.snapshot.topReasons) {
    const cls = findingClassOf(r.class);
    if (!cls) {
      f.unexplained.push({ reason: r.reason, recipients: r.count });
      continue;
    }
    const g = group(cls);
    g.recipients += r.count;
    g.rows.push(`${plural(r.count, "recipient")} in the queue: ${r.reason}`);
  }
  for (const dom of f.snapshot.topDomains) {
    const d = destinationFacts(f, dom.domain);
    const cls = d ? findingClassOf(d.mainClass) : null;
    if (cls && groups.has(cls)) group(cls).domains.set(dom.domain, dom.count);
  }
  // Milters and policy services show in the log even when nothing is queued.
  const milterDown = warningEvidence(f.warnings, ["milter", "policy"]);
  if (warningOf(f, "milter-reject") || milterDown.length || groups.has("local-service"))
    group("local-service").rows.push(...milterDown, ...warningEvidence(f.warnings, ["milter-reject"]));
  f.deferrals = [...groups.values()];
}
