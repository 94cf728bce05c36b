import { type DeferralGroup, type TriageFacts, warningOf } from "../facts.js";
import { warningEvidence } from "../format.js";
import type { Finding } from "../types.js";

/**
 * A milter that tempfails at intake refuses every new message: the whole relay. One that only
 * does not answer, with nothing queued for it, still concerns the relay rather than the queue.
 */
export function withMilterScope(f: TriageFacts, g: DeferralGroup, x: Finding): Finding {
  if (g.cls !== "local-service") return x;
  if (warningOf(f, "milter-reject"))
    return {
      ...x,
      share: 1,
      scope: "relay",
      title: "The milter is down: new mail is refused with 4xx at intake",
    };
  if (warningEvidence(f.warnings, ["milter", "policy"]).length && g.recipients === 0)
    return { ...x, scope: "relay", title: "A milter or policy service does not answer" };
  return x;
}
