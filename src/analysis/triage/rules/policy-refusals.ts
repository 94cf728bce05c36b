import { POLICY_RE } from "../../../parsers/maillog-warnings.js";
import { queuedFor, type TriageFacts } from "../facts.js";
import { LEVERS } from "../levers.js";
import type { Finding } from "../types.js";
import { shareMatching } from "./shared.js";

/** Remote sites refusing on SPF, DKIM or DMARC (5.7.x), per destination. */
export function policyRefusals(f: TriageFacts): Finding[] {
  const refusals = f.log?.policyRefusals ?? [];
  if (!refusals.length) return [];
  return [
    {
      class: "policy",
      share: shareMatching(f, POLICY_RE),
      scope: "queue",
      title: `${refusals
        .slice(0, 3)
        .map((p) => p.domain)
        .join(", ")} refuse mail on SPF/DKIM/DMARC`,
      evidence: refusals
        .slice(0, 5)
        .flatMap((p) => [`${p.count}× dsn=${p.dsn} for ${p.domain}: ${p.text}`, p.sample]),
      recommendation: LEVERS.policy,
      destinations: refusals.map((p) => ({ domain: p.domain, recipients: queuedFor(f, p.domain) })),
    },
  ];
}
