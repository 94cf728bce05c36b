import { type TriageFacts, warningOf } from "../facts.js";
import { concurrencyLine, warningEvidence } from "../format.js";
import type { Finding } from "../types.js";

/** Process limits reached: deliveries are slow, or the limit is too low. */
export function processLimit(f: TriageFacts): Finding[] {
  const limit = warningOf(f, "process-limit");
  if (!limit) return [];
  return [
    {
      class: "config",
      share: 0,
      scope: "relay",
      title: `${limit.subjects.map((x) => `"${x}"`).join(", ") || "A service"} has reached its process limit`,
      evidence: warningEvidence(f.warnings, ["process-limit"]),
      recommendation:
        `Deliveries are slow (see the other findings) or the limit is low. Fix the slowness first; raise the process limit only if the host has headroom, and never while remote sites throttle. ${concurrencyLine(f.settings)}`.trim(),
      destinations: [],
    },
  ];
}
