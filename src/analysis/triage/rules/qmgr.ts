import { type TriageFacts, warningOf } from "../facts.js";
import { warningEvidence } from "../format.js";
import type { Finding } from "../types.js";
import { spoolFull } from "./storage.js";

/** What the service health was read from (src/parsers/system.ts serviceHealth). */
const MASTER_CHECK = "the queue directory's pid/master.pid and ps -eo pid,ppid,etimes,comm,args";

/**
 * Postfix itself: master and qmgr. Without qmgr nothing drains, whatever else is fixed, so
 * this comes before any advice about destinations.
 */
export function qmgr(f: TriageFacts): Finding[] {
  const sv = f.snapshot.service;
  const fatal = warningEvidence(f.warnings, ["fatal"]);
  // master's "warning: process /usr/lib/postfix/sbin/qmgr pid N exit status 1" and qmgr's own fatal lines
  const qmgrDied = (warningOf(f, "fatal")?.examples ?? []).filter((l) =>
    /\/qmgr\[\d+\]: (?:fatal|panic)|sbin\/qmgr pid/.test(l),
  );
  const found: Finding[] = [];
  if (sv && !sv.masterRunning)
    found.push({
      class: "config",
      share: 1,
      scope: "relay",
      title: "Postfix's master is not running: nothing is delivered",
      evidence: [`${sv.statusMessage || "master is not running"} (${MASTER_CHECK})`, ...fatal],
      recommendation:
        "Start Postfix once, then read the log for why it stopped; fix that before touching the queue. Do not delete queued mail.",
      destinations: [],
    });
  else if (sv && !sv.qmgrRunning)
    found.push({
      class: "config",
      share: 1,
      scope: "relay",
      title: "qmgr is missing: the queue cannot drain",
      evidence: [
        `master PID ${sv.masterPid ?? "?"} is running with no qmgr child (${MASTER_CHECK})`,
        ...fatal,
      ],
      recommendation:
        "qmgr is missing: check master.cf (the qmgr line) and the log for errors, then postfix reload. The queue won't drain regardless of remote reachability; do not touch queue contents meanwhile.",
      destinations: [],
    });
  else if (sv?.qmgrUptimeS !== undefined && sv.qmgrUptimeS < 60 && qmgrDied.length)
    found.push({
      class: "config",
      share: 1,
      scope: "relay",
      title: "qmgr keeps respawning",
      evidence: [`qmgr has been up ${sv.qmgrUptimeS} s`, ...qmgrDied],
      recommendation:
        "qmgr is crashing and being restarted: read the fatal lines, fix master.cf/main.cf, then reload once.",
      destinations: [],
    });
  // A full spool stops Postfix's daemons from creating their files: it comes first.
  if (!spoolFull(f)) return found;
  return found.map((x) => ({
    ...x,
    title: `${x.title} (the spool is full: Postfix cannot create its files)`,
    recommendation: `Free space and inodes on the spool first (see the storage finding); a restart or a master.cf change will not help while it is full. Then: ${x.recommendation}`,
  }));
}
