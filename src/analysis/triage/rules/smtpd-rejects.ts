import type { TriageFacts } from "../facts.js";
import type { Finding } from "../types.js";

/** The relay's own smtpd refusing clients with 5.7.1 or 4.7.1: a relaying question, not a queue one. */
export function smtpdRejects(f: TriageFacts): Finding[] {
  const rejects = f.log?.smtpdRejects ?? [];
  if (!rejects.length) return [];
  const total = rejects.reduce((a, r) => a + r.count, 0);
  const clients = new Set(rejects.map((r) => r.client));
  return [
    {
      class: "policy",
      share: 0,
      scope: "relay",
      title: `The relay's own smtpd refused ${total} request(s) with ${[...new Set(rejects.map((r) => r.dsn))].join("/")} from ${clients.size} client(s)`,
      evidence: rejects.slice(0, 5).flatMap((r) => [`${r.count}× ${r.client}: ${r.reason}`, r.sample]),
      recommendation:
        "A client that should relay through this host is missing from mynetworks (or lacks SASL): add it there. A client that should not is probing for an open relay: block it at the edge. Never widen relaying to silence the errors; the queue is not involved.",
      destinations: [],
    },
  ];
}
