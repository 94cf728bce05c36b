import type { DnsProbe, TcpProbe } from "../relay/triage-probes.js";
import type { ReasonClass } from "./reasons.js";
import type { RelaySnapshot } from "./snapshot.js";

export type FindingClass = Exclude<ReasonClass, "other"> | "corruption" | "other";

export interface Finding {
  class: FindingClass;
  /** The part of the queue (recipients) this explains, 0–1; 1 for what stops the whole queue. */
  share: number;
  title: string;
  evidence: string[];
  recommendation: string;
}

export interface Flow {
  intakePerMinute: number;
  removedPerMinute: number;
  growing: boolean;
}

export interface Triage {
  relay: string;
  findings: Finding[];
  flow: Flow | null;
}

/** What the seed says to do, per cause: the safe lever, and what not to do. */
const LEVER: Record<FindingClass, string> = {
  dns: "Do not flush: DNS lookups fail, and a flush only multiplies failing lookups. Fix the resolver (resolv.conf, the upstream, a local cache) first, then requeue gently.",
  network:
    "Do not flush or delete: the relay cannot connect. Check the firewall and egress for outbound port 25 (or use an approved relayhost on 587), test one message with postqueue -i, then requeue.",
  "remote-throttling":
    "Do not hammer: the remote side asks to back off. Lower the per-destination concurrency for it, respect the 4xx backoff and let the queue drain on its own.",
  "local-service":
    "A local service (milter, policy or content filter) is failing: restore it. Do not delete queued mail because a filter died.",
  storage: "Free space or inodes safely (logs, caches) or grow the spool's filesystem. Never rm queue files.",
  tls: "TLS to the destination fails: check the TLS policy and certificates for it before retrying; do not disable verification globally.",
  config:
    "Postfix's own configuration or processes are at fault: fix that (master.cf, main.cf, the log says why) before touching the queue.",
  corruption:
    "Queue files look corrupt: preserve the spool, check the filesystem, then requeue (postsuper -r). Do not run cleanup scripts.",
  other: "Read the evidence lines; hold suspicious mail rather than deleting it.",
};

const ORDER: FindingClass[] = [
  "config",
  "storage",
  "local-service",
  "corruption",
  "dns",
  "network",
  "remote-throttling",
  "tls",
  "other",
];

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** Findings, largest share first, from a snapshot and the probes triage ran. Pure. */
export function triage(s: RelaySnapshot, dns: DnsProbe[], tcp: TcpProbe[]): Triage {
  const out: Finding[] = [];
  if (!s.ok) {
    out.push({
      class: "network",
      share: 1,
      title: "The relay did not answer",
      evidence: [s.error ?? "no answer"],
      recommendation: "Reach the relay first (SSH, host key, the bot's key); nothing else can be judged.",
    });
    return { relay: s.relay, findings: out, flow: null };
  }
  const sv = s.service;
  if (sv && !sv.masterRunning)
    out.push({
      class: "config",
      share: 1,
      title: "Postfix's master is not running",
      evidence: [sv.statusMessage || "postfix status: not running"],
      recommendation:
        "Start Postfix once, then read the log for why it stopped. Nothing is delivered meanwhile.",
    });
  else if (sv && !sv.qmgrRunning)
    out.push({
      class: "config",
      share: 1,
      title: "qmgr is missing: the queue cannot drain",
      evidence: [`master PID ${sv.masterPid ?? "?"} has no qmgr child`],
      recommendation: `${LEVER.config} Check master.cf for the qmgr line.`,
    });

  const d = s.disk;
  const spaceWarnings = (s.log?.warnings ?? []).filter((w) => w.kind === "space" || w.kind === "write-error");
  if (d?.warning || spaceWarnings.length) {
    const ev = [
      d?.bytes ? `${d.path}: ${d.bytes.usedPercent}% of bytes used` : "",
      d?.inodes ? `${d.path}: ${d.inodes.usedPercent}% of inodes used` : "",
      ...spaceWarnings.flatMap((w) => w.examples),
    ].filter(Boolean);
    out.push({
      class: "storage",
      share: 1,
      title: "The spool is short of space or inodes",
      evidence: ev,
      recommendation: LEVER.storage,
    });
  }

  const recipients = Math.max(
    1,
    s.topReasons.reduce((n, r) => n + r.count, 0),
    s.recipients,
  );
  const byClass = new Map<FindingClass, { count: number; rows: string[] }>();
  for (const r of s.topReasons) {
    const e = byClass.get(r.class) ?? { count: 0, rows: [] };
    e.count += r.count;
    e.rows.push(`${r.count} recipients: ${r.reason}`);
    byClass.set(r.class, e);
  }
  const milter = (s.log?.warnings ?? []).filter((w) => w.kind === "milter" || w.kind === "policy");
  if (milter.length && !byClass.has("local-service")) byClass.set("local-service", { count: 0, rows: [] });
  const corrupt = (s.log?.warnings ?? []).filter((w) => w.kind === "corruption");
  if (corrupt.length)
    out.push({
      class: "corruption",
      share: 0,
      title: "Postfix reports corrupt queue files",
      evidence: corrupt.flatMap((w) => w.examples),
      recommendation: LEVER.corruption,
    });

  for (const [cls, e] of byClass) {
    const evidence = [...e.rows];
    if (cls === "dns") evidence.push(...dns.map((p) => p.output));
    if (cls === "network") evidence.push(...tcp.filter((p) => !p.ok).map((p) => p.output));
    if (cls === "local-service") evidence.push(...milter.flatMap((w) => w.examples));
    let recommendation = LEVER[cls];
    if (cls === "remote-throttling" && s.postfix?.concurrency) {
      const c = s.postfix.concurrency;
      recommendation += ` Now: smtp_destination_concurrency_limit = ${c.smtp_destination_concurrency_limit ?? "?"}, default_destination_concurrency_limit = ${c.default_destination_concurrency_limit ?? "?"}.`;
    }
    const title = {
      dns: "DNS lookups fail for failing destinations",
      network: "Connections to destinations fail",
      "remote-throttling": "Remote sites throttle or greylist",
      "local-service": "A local milter, policy or content-filter service fails",
      storage: "Deliveries fail for lack of space",
      tls: "TLS to destinations fails",
      config: "Configuration errors defer mail",
      corruption: "Corrupt queue files",
      other: "Other deferral causes",
    }[cls];
    out.push({ class: cls, share: e.count / recipients, title, evidence, recommendation });
  }

  const top = s.topDomains[0];
  if (top && top.count / recipients > 0.5 && s.topDomains.length > 1)
    out.push({
      class: out.filter((f) => f.share < 1).sort((a, b) => b.share - a.share)[0]?.class ?? "other",
      share: top.count / recipients,
      title: `One destination holds ${pct(top.count / recipients)} of the queue: ${top.domain}`,
      evidence: [`${top.count} of ${recipients} recipients are at ${top.domain}`],
      recommendation: `Lower ${top.domain}'s concurrency or isolate it with a transport map, so the rest of the mail keeps flowing.`,
    });

  let flow: Flow | null = null;
  const span = s.log?.spanMinutes ?? 0;
  if (s.log && span > 0) {
    flow = {
      intakePerMinute: s.log.intake / span,
      removedPerMinute: s.log.removed / span,
      growing: s.log.intake > s.log.removed * 1.5 && s.log.intake >= 10,
    };
    if (flow.growing)
      out.push({
        class: "other",
        share: 0,
        title: "Mail arrives faster than it leaves",
        evidence: [
          `${flow.intakePerMinute.toFixed(1)}/min in, ${flow.removedPerMinute.toFixed(1)}/min out over the last ${Math.round(span)} minutes of the log`,
        ],
        recommendation:
          "Find the source of the intake (an app in a loop, a compromised account) and rate-limit or block it at the edge before recovering the queue.",
      });
  }
  out.sort((a, b) => b.share - a.share || ORDER.indexOf(a.class) - ORDER.indexOf(b.class));
  return { relay: s.relay, findings: out, flow };
}

/** The destinations triage may probe: only what the relay's own deferral reasons name. */
export function probeTargets(s: RelaySnapshot): { dns: string[]; tcp: { host: string; port: number }[] } {
  const dns = new Set<string>();
  const tcp = new Map<string, { host: string; port: number }>();
  for (const r of s.topReasons) {
    const n = /name service error for name=(\S+) type=(?:MX|A|AAAA)/i.exec(r.reason);
    if (n?.[1]) dns.add(n[1].replace(/\.$/, ""));
    const c = /connect to [^\s[]+\[([^\]]+)\]:(\d+)/i.exec(r.reason);
    if (c?.[1] && c[2]) tcp.set(`${c[1]}:${c[2]}`, { host: c[1], port: Number(c[2]) });
  }
  return { dns: [...dns].slice(0, 5), tcp: [...tcp.values()].slice(0, 5) };
}
