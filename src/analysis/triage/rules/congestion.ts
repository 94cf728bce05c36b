import { findingClassOf } from "../classes.js";
import { type DeferralGroup, destinationFacts, queuedFor, type TriageFacts, warningOf } from "../facts.js";
import { concurrencyLine } from "../format.js";
import type { Finding, FindingClass } from "../types.js";

/** qmgr's congestion warning: one destination hogging the active queue. The first few named. */
const MAX_CONGESTED = 3;

const congested = (f: TriageFacts): string[] =>
  warningOf(f, "congestion")?.subjects.slice(0, MAX_CONGESTED) ?? [];
const classOf = (f: TriageFacts, domain: string): FindingClass => {
  const d = destinationFacts(f, domain);
  return (d && findingClassOf(d.mainClass)) || "remote-throttling";
};
const examples = (f: TriageFacts, domain: string): string[] =>
  warningOf(f, "congestion")?.examples.filter((e) => e.includes(` ${domain} `)) ?? [];
const advice = (domain: string) =>
  `Lower ${domain}'s concurrency or isolate it with a transport of its own; do not raise qmgr_message_active_limit to hide it.`;

/** A congested destination a deferral finding already covers: its lines and advice go there. */
export function withCongestion(f: TriageFacts, g: DeferralGroup, x: Finding): Finding {
  let { evidence, recommendation } = x;
  for (const domain of congested(f)) {
    if (classOf(f, domain) !== g.cls || !g.domains.has(domain)) continue;
    evidence = [...evidence, ...examples(f, domain)];
    if (!recommendation.includes(advice(domain))) recommendation += ` ${advice(domain)}`;
  }
  return { ...x, evidence, recommendation };
}

/** A congested destination no deferral finding covers: a finding of its own. */
export function congestion(f: TriageFacts): Finding[] {
  return congested(f)
    .filter((domain) => !f.deferrals.some((g) => g.cls === classOf(f, domain) && g.domains.has(domain)))
    .map((domain) => {
      const queued = queuedFor(f, domain);
      return {
        class: classOf(f, domain),
        share: Math.min(1, queued / f.recipients),
        scope: "queue",
        title: `Mail for ${domain} fills the active queue`,
        evidence: examples(f, domain),
        recommendation: `${advice(domain)} ${concurrencyLine(f.settings)}`.trim(),
        destinations: queued ? [{ domain, recipients: queued }] : [],
      };
    });
}
