import { checklist } from "./checklist.js";
import { type TriageFacts, triageFacts } from "./facts.js";
import { intake } from "./intake.js";
import { blocklists } from "./rules/blocklists.js";
import { bounceStorm } from "./rules/bounce-storm.js";
import { certificate } from "./rules/certificate.js";
import { congestion } from "./rules/congestion.js";
import { corruptFiles } from "./rules/corrupt-files.js";
import { deferralClasses } from "./rules/deferral-classes.js";
import { policyRefusals } from "./rules/policy-refusals.js";
import { processLimit } from "./rules/process-limit.js";
import { qmgr } from "./rules/qmgr.js";
import { reverseDns } from "./rules/reverse-dns.js";
import { smtpdRejects } from "./rules/smtpd-rejects.js";
import { storage } from "./rules/storage.js";
import { FINDING_CLASSES, type Finding, type RelayTriage, type TriageInput } from "./types.js";

/**
 * Triage as a pure function: checklist A ("the first 10 minutes": Postfix, the spool, the
 * queue's deferrals) and checklist B (why the world refuses the relay's mail). A status
 * snapshot, the facts read from the mail log and the probes' answers in; findings, each with
 * its class, evidence, share of the queue and the safe lever, out. No I/O here. Each rule in
 * rules/ reads the facts and says what it finds; adding a check is adding a rule to RULES.
 */

export { LEVERS } from "./levers.js";
export { mxFallbackTargets, type ProbePlan, probePlan } from "./probe-plan.js";
export * from "./types.js";

export type TriageRule = (f: TriageFacts) => Finding[];

/** In this order; findings are then sorted by share (stable), ties by class. */
export const RULES: readonly TriageRule[] = [
  qmgr,
  storage,
  deferralClasses,
  congestion,
  processLimit,
  corruptFiles,
  // Checklist B: why the world refuses the relay's mail.
  blocklists,
  reverseDns,
  certificate,
  policyRefusals,
  smtpdRejects,
  bounceStorm,
];

/** Findings, largest share first, from what triage read. Pure. */
export function triage(input: TriageInput): RelayTriage {
  const s = input.snapshot;
  const base: RelayTriage = {
    relay: s.relay,
    ok: s.ok,
    takenAt: s.takenAt,
    queue: {
      messages: s.messages,
      recipients: s.recipients,
      active: s.queues.active,
      deferred: s.queues.deferred,
      hold: s.queues.hold,
      incoming: s.queues.incoming,
      maildrop: s.queues.maildrop,
    },
    findings: [],
    unexplained: [],
    intake: null,
    checklist: [],
    settings: s.postfix?.concurrency ?? {},
    probeErrors: [
      ...s.probeErrors.map((p) => `${s.relay}: ${p.probe}: ${p.message}`),
      ...(input.probeErrors ?? []),
    ],
  };
  if (!s.ok) {
    base.error = s.error ?? "the relay did not answer";
    base.checklist.push({ step: "reach the relay", ok: false, detail: base.error });
    return base;
  }
  const facts = triageFacts(input);
  base.findings = RULES.flatMap((rule) => rule(facts)).sort(
    (a, b) => b.share - a.share || FINDING_CLASSES.indexOf(a.class) - FINDING_CLASSES.indexOf(b.class),
  );
  base.unexplained = facts.unexplained;
  base.intake = intake(s, input.log);
  base.checklist = checklist(s, input.log, input);
  return base;
}
