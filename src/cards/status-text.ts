import type { Movement } from "../analysis/delta.js";
import type { RelaySnapshot } from "../analysis/snapshot.js";
import { QUEUE_NAMES } from "../parsers/postqueue.js";
import { fleetTotals, worstFirst } from "./fleet.js";
import { age, bytes, num } from "./format.js";
import { headline, ioStall, movementLine } from "./status.js";

/** The status card as plain text, for the terminal. */
export function statusText(
  snapshots: RelaySnapshot[],
  nowMs: number,
  top = 5,
  progress: Map<string, Movement> = new Map(),
  warnings: Map<string, string> = new Map(),
): string {
  // Several relays: the fleet's totals first, then the relays worst first, as on the card.
  const out: string[] = snapshots.length > 1 ? [...fleetTotals(snapshots, nowMs).split("\n"), ""] : [];
  for (const s of snapshots.length > 1 ? worstFirst(snapshots) : snapshots) {
    out.push(`== ${headline(s)}`);
    const warning = warnings.get(s.relay);
    if (warning) out.push(`   !! ${warning}`);
    if (!s.ok) {
      out.push("");
      continue;
    }
    out.push(`   ${QUEUE_NAMES.map((q) => `${q} ${num(s.queues[q])}`).join(" | ")}`);
    out.push(
      `   ${num(s.messages)} messages, ${bytes(s.bytes)}, oldest ${age(s.oldestArrival, nowMs)}${s.listing.complete ? "" : " (partial listing)"}`,
    );
    if (s.topReasons.length) {
      out.push("   top deferral reasons:");
      for (const r of s.topReasons.slice(0, top))
        out.push(`     ${String(r.count).padStart(7)}  ${r.class.padEnd(17)} ${r.reason}`);
    }
    if (s.topDomains.length)
      out.push(
        `   top destinations: ${s.topDomains
          .slice(0, top)
          .map((d) => `${d.domain} ${num(d.count)}`)
          .join(", ")}`,
      );
    if (s.disk) {
      const d = s.disk;
      out.push(
        `   spool ${d.path}: ${d.bytes ? `${d.bytes.usedPercent}% used, ${bytes(d.bytes.available)} free` : "?"}; inodes ${d.inodes ? `${d.inodes.usedPercent}%` : "?"}${d.warning ? "  WARNING" : ""}`,
      );
    }
    if (s.service)
      out.push(
        `   master ${s.service.masterRunning ? "running" : "NOT RUNNING"}, qmgr ${s.service.qmgrRunning ? "running" : "MISSING"}`,
      );
    if (s.load) {
      const io = ioStall(s.load);
      out.push(
        `   load ${s.load.load1.toFixed(2)} ${s.load.load5.toFixed(2)} ${s.load.load15.toFixed(2)}${io ? `, ${io}` : ""}`,
      );
    }
    const p = progress.get(s.relay);
    if (p) {
      out.push(`   ${movementLine(p)}`);
      for (const c of p.newCauses) out.push(`   NEW CAUSE: ${c}`);
    }
    for (const e of s.probeErrors) out.push(`   ! ${e.message}`);
    out.push("");
  }
  return out.join("\n");
}
