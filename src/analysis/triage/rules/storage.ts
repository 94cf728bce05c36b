import type { TriageFacts } from "../facts.js";
import { warningEvidence } from "../format.js";
import { LEVERS } from "../levers.js";
import type { Finding } from "../types.js";

/** df says the spool is nearly full, or Postfix says it cannot write its files. */
export const spoolFull = (f: TriageFacts): boolean =>
  !!f.snapshot.disk?.warning || warningEvidence(f.warnings, ["space", "write-error"]).length > 0;

/** Storage: df of the spool and Postfix's own space and write warnings. */
export function storage(f: TriageFacts): Finding[] {
  if (!spoolFull(f)) return [];
  const d = f.snapshot.disk;
  return [
    {
      class: "storage",
      share: 1,
      scope: "relay",
      title:
        d?.inodes && d.inodes.usedPercent >= (d.bytes?.usedPercent ?? 0) && d.warning
          ? `The spool is out of inodes (${d.inodes.usedPercent}% used)`
          : d?.warning
            ? `The spool is nearly full (${d.bytes?.usedPercent ?? "?"}% of its space used)`
            : "Postfix reports it cannot write queue files",
      evidence: [
        ...(d?.bytes
          ? [
              `df -P -k ${d.path}: ${d.bytes.usedPercent}% used, ${Math.round(d.bytes.available / 1024)} KiB free on ${d.bytes.filesystem} (${d.bytes.mountedOn})`,
            ]
          : []),
        ...(d?.inodes
          ? [`df -P -i ${d.path}: ${d.inodes.usedPercent}% of inodes used, ${d.inodes.available} free`]
          : []),
        ...warningEvidence(f.warnings, ["space", "write-error"]),
      ],
      recommendation: LEVERS.storage,
      destinations: [],
    },
  ];
}
