import type { DeferralGroup, TriageFacts } from "../facts.js";
import { concurrencyLine } from "../format.js";
import type { Finding } from "../types.js";

/**
 * Connection failures and throttling: what nc says now about the next hops they name. A host
 * that accepts TCP while deferring means the SMTP answer defers, so the limits in force matter.
 */
export function withTcpProbes(f: TriageFacts, g: DeferralGroup, x: Finding): Finding {
  if (g.cls !== "network" && g.cls !== "remote-throttling") return x;
  const probes = f.input.tcp.filter(
    (p) => g.domains.has(p.domain) || (p.domain === "" && g.cls === "network"),
  );
  const evidence = [...x.evidence, ...probes.map((p) => p.output)];
  let recommendation = x.recommendation;
  if (g.cls === "remote-throttling" && probes.some((p) => p.ok))
    evidence.push("the host accepts TCP connections: it is the SMTP answer (4xx) that defers");
  if (g.cls === "network" && probes.length && probes.every((p) => p.ok))
    recommendation = `${recommendation} The probe connects now: the failure may be intermittent or on another path; test one message (postqueue -i) before any requeue.`;
  if (g.cls === "remote-throttling") {
    const now = concurrencyLine(f.settings);
    if (now) recommendation = `${recommendation} ${now}`;
  }
  return { ...x, evidence, recommendation };
}
