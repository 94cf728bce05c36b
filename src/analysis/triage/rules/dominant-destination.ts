import type { DeferralGroup, TriageFacts } from "../facts.js";
import { pct } from "../format.js";
import type { Finding } from "../types.js";

/**
 * One destination holding half the queue or more: isolating it keeps the rest flowing, where
 * a flush or a global limit change would hold everything back for it.
 */
export function withDominantDestination(f: TriageFacts, g: DeferralGroup, x: Finding): Finding {
  const s = f.snapshot;
  const top = s.topDomains[0];
  if (!top || s.topDomains.length < 2 || top.count / f.recipients < 0.5 || !g.domains.has(top.domain))
    return x;
  const share = pct(top.count / f.recipients);
  return {
    ...x,
    title: `${x.title}: ${top.domain} holds ${share} of the queue`,
    recommendation: `One destination holds ${share} of the queue (${top.domain}): lower its concurrency or isolate it (a transport of its own) so the rest keeps flowing. ${x.recommendation}`,
  };
}
