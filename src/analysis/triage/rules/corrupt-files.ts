import type { TriageFacts } from "../facts.js";
import { warningEvidence } from "../format.js";
import { LEVERS } from "../levers.js";
import type { Finding } from "../types.js";

/**
 * Corrupt queue files: counted and reported, never cleaned up. Deleting them in a hurry
 * loses mail that a healthy filesystem and a requeue could still deliver.
 */
export function corruptFiles(f: TriageFacts): Finding[] {
  const corrupt = warningEvidence(f.warnings, ["corruption"]);
  const setAside = f.input.corruptFiles ?? 0;
  if (setAside > 0)
    corrupt.unshift(
      `${setAside.toLocaleString("en-US")} file(s) in ${f.snapshot.disk?.path ?? "the queue directory"}/corrupt: set aside by Postfix, never delivered`,
    );
  if (!corrupt.length) return [];
  return [
    {
      class: "corruption",
      share: 0,
      scope: "relay",
      title: "Postfix reports corrupt queue files",
      evidence: corrupt,
      recommendation: LEVERS.corruption,
      destinations: [],
    },
  ];
}
