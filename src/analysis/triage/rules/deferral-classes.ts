import { type DeferralGroup, destinationFacts, type TriageFacts } from "../facts.js";
import { LEVERS, TITLES } from "../levers.js";
import type { Finding } from "../types.js";
import { withCongestion } from "./congestion.js";
import { withTcpProbes } from "./connectivity.js";
import { withDnsProbes } from "./dns.js";
import { withDominantDestination } from "./dominant-destination.js";
import { withMilterScope } from "./milters.js";

type Refinement = (f: TriageFacts, g: DeferralGroup, x: Finding) => Finding;

/** In this order: each may add evidence or advice to what the ones before said. */
const REFINEMENTS: readonly Refinement[] = [
  withDnsProbes,
  withTcpProbes,
  withMilterScope,
  withDominantDestination,
  withCongestion,
];

/** The queue's deferral reasons, one finding per class, with their destinations and a sample message. */
export function deferralClasses(f: TriageFacts): Finding[] {
  return f.deferrals.map((g) => REFINEMENTS.reduce((x, refine) => refine(f, g, x), base(f, g)));
}

function base(f: TriageFacts, g: DeferralGroup): Finding {
  const destinations = [...g.domains]
    .map(([domain, n]) => ({ domain, recipients: n }))
    .sort((a, b) => b.recipients - a.recipients);
  const evidence = [...g.rows];
  const samples: Partial<Record<string, string>> = f.log?.sampleLineByClass ?? {};
  const sampleLine = g.cls === "corruption" ? undefined : samples[g.cls];
  if (sampleLine && !evidence.includes(sampleLine)) evidence.push(sampleLine);
  const sample = destinations.map((d) => destinationFacts(f, d.domain)?.sampleQueueId).find((id) => !!id);
  return {
    class: g.cls,
    share: Math.min(1, g.recipients / f.recipients),
    scope: "queue",
    title: TITLES[g.cls],
    evidence,
    recommendation: LEVERS[g.cls],
    destinations,
    ...(sample ? { sampleQueueId: sample } : {}),
  };
}
