import type { TriageFacts } from "../facts.js";
import { LEVERS } from "../levers.js";
import type { Finding } from "../types.js";
import { shareMatching } from "./shared.js";

const REPUTATION_RE =
  /block ?list|black ?list|\blisted\b|spamhaus|barracuda|spamcop|dnsbl|\brbl\b|reputation|user complaints/i;

/** The relay's sending address on a DNS blocklist, with the queued deferrals that say so. */
export function blocklists(f: TriageFacts): Finding[] {
  const w = f.input.world;
  const listed = w?.blocklists.filter((b) => b.status === "listed") ?? [];
  if (!w || !listed.length) return [];
  const unknown = w.blocklists.filter((b) => b.status === "unknown");
  const clean = w.blocklists.filter((b) => b.status === "not listed");
  const share = shareMatching(f, REPUTATION_RE);
  return [
    {
      class: "reputation",
      share,
      scope: share > 0 ? "queue" : "relay",
      title: `${[...new Set(listed.map((b) => b.ip))].join(", ")} is listed on ${listed.map((b) => b.zone).join(", ")}`,
      evidence: [
        `outbound address from ${w.outbound.source}`,
        ...listed.map((b) => b.output),
        ...unknown.map((b) => b.output),
        ...(clean.length ? [`not listed on ${clean.map((b) => `${b.zone} (${b.ip})`).join(", ")}`] : []),
        ...f.snapshot.topReasons
          .filter((r) => REPUTATION_RE.test(r.reason))
          .slice(0, 3)
          .map((r) => `${r.count} recipient(s) in the queue: ${r.reason}`),
      ],
      recommendation: `Listed on ${listed.map((b) => b.zone).join(", ")}. ${LEVERS.reputation}`,
      destinations: [],
    },
  ];
}
