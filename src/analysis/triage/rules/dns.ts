import type { DeferralGroup, TriageFacts } from "../facts.js";
import type { Finding } from "../types.js";

/** DNS failures: what dig says now. A resolver that answers fast now means an intermittent failure. */
export function withDnsProbes(f: TriageFacts, g: DeferralGroup, x: Finding): Finding {
  if (g.cls !== "dns") return x;
  const ps = f.input.dns;
  const bad = ps.filter((p) => p.status !== "NOERROR" || p.exchanges.length === 0);
  const slow = ps.filter((p) => (p.queryMs ?? 0) >= 1000);
  const evidence = [...x.evidence, ...ps.map((p) => p.output)];
  if (ps.length && bad.length === 0 && slow.length === 0)
    return {
      ...x,
      evidence,
      recommendation: `${x.recommendation} The resolver answers now (${ps.map((p) => `${p.name} in ${p.queryMs ?? "?"} ms`).join(", ")}): the failure may be intermittent; watch before requeueing.`,
    };
  if (slow.length) return { ...x, title: "DNS lookups are slow or fail for failing destinations", evidence };
  return { ...x, evidence };
}
