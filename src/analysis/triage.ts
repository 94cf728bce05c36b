import { isHostName, parseNextHop } from "../parsers/hosts.js";
import type { WarningSummary } from "../parsers/maillog-warnings.js";
import type { DestinationFacts, LogFacts } from "./log-facts.js";
import type { ReasonClass } from "./reasons.js";
import type { BlocklistProbe, CertProbe, OutboundIps, RdnsProbe } from "./reputation.js";
import type { RelaySnapshot } from "./snapshot.js";
import { worldChecks, worldFindings } from "./world-findings.js";

/**
 * Checklist A of the seed ("first 10 minutes") as a pure function: a status snapshot, the
 * facts read from the mail log and the DNS/TCP probes in; findings, each with its class,
 * evidence, share of the queue and the safe lever, out. No I/O here.
 */

// Ties (share 1, the whole relay) go to the root cause first: a full spool stops Postfix's
// daemons from creating their files, so it explains a missing qmgr, never the other way round.
export const FINDING_CLASSES = [
  "storage",
  "config",
  "local-service",
  "corruption",
  "dns",
  "network",
  "remote-throttling",
  "policy",
  "recipient",
  "reputation",
  "tls",
  "bounce-storm",
] as const;
export type FindingClass = (typeof FINDING_CLASSES)[number];

export interface Finding {
  class: FindingClass;
  /**
   * The share of the queue's recipients this explains (0–1). 1 for what stops the whole relay
   * (no qmgr, a full spool, a milter that tempfails every message): scope says which.
   */
  share: number;
  scope: "queue" | "relay";
  title: string;
  /** The lines behind it: queue reasons with their counts, log lines verbatim, probe results. */
  evidence: string[];
  /** The safe next lever, and what not to do, as the seed says. */
  recommendation: string;
  /** Destinations it concerns, most recipients first. */
  destinations: { domain: string; recipients: number }[];
  /** A queued message it concerns (from the log), for "inspect a sample". */
  sampleQueueId?: string;
}

export interface DnsProbe {
  name: string;
  resolver: string | null;
  /** NOERROR, NXDOMAIN, SERVFAIL, … or TIMEOUT. */
  status: string;
  queryMs: number | null;
  /** MX exchanges in the answer. */
  exchanges: string[];
  output: string;
}

export interface TcpProbe {
  host: string;
  port: number;
  /** The destination whose deferrals named this host. */
  domain: string;
  ok: boolean;
  output: string;
}

export interface Intake {
  windowMinutes: number;
  newMessages: number;
  removed: number;
  growing: boolean;
  verdict: string;
  recommendation: string | null;
}

export interface Check {
  step: string;
  ok: boolean;
  detail: string;
}

export interface RelayTriage {
  relay: string;
  ok: boolean;
  error?: string;
  takenAt: string;
  queue: {
    messages: number;
    recipients: number;
    active: number;
    deferred: number;
    hold: number;
    incoming: number;
    maildrop: number;
  };
  findings: Finding[];
  /** Deferral reasons no rule explains, with their counts: read them yourself. */
  unexplained: { reason: string; recipients: number }[];
  intake: Intake | null;
  /** Checklist A, step by step, as run. */
  checklist: Check[];
  /** The concurrency and process limits in force (postconf). */
  settings: Record<string, string>;
  probeErrors: string[];
}

export interface TriageInput {
  snapshot: RelaySnapshot;
  log: LogFacts | null;
  dns: DnsProbe[];
  tcp: TcpProbe[];
  /** Probe failures of triage's own probes, each naming the relay and the probe. */
  probeErrors?: string[];
  /** Files in the queue's corrupt/ directory; null or absent when not counted. */
  corruptFiles?: number | null;
  /** Checklist B: where mail leaves from, and what blocklists, rDNS and the certificate say. */
  world?: WorldProbes;
}

export interface WorldProbes {
  outbound: OutboundIps;
  blocklists: BlocklistProbe[];
  rdns: RdnsProbe[];
  cert: CertProbe | null;
  /** A certificate expiring within this many days is a finding. */
  certWarnDays: number;
}

/** The seed's decisions, per class: the safe lever and what not to do. */
export const LEVERS: Record<FindingClass, string> = {
  dns: "Do not flush: DNS lookups fail, and a flush only multiplies failing lookups. Fix the resolver (its upstream, the network path, a local cache) first, then requeue gradually.",
  network:
    "Do not flush or delete: the relay cannot connect. Escalate to network/firewall (egress on port 25, routing); if outbound 25 is blocked by policy, use an approved relayhost. Then test one message (postqueue -i ID) before requeueing.",
  "remote-throttling":
    "Do not flush: the remote side is asking you to back off. Lower the per-destination concurrency for it (smtp_destination_concurrency_limit, or a transport of its own) and let the backoff drain it.",
  policy:
    "Do not flush: the remote side refuses on policy or reputation, and retrying harder makes it worse. Read the provider's reason: fix authentication (SPF, DKIM, DMARC, PTR) or the source of complaints, check block lists and the provider's postmaster tools, ask for delisting; slow down meanwhile.",
  recipient:
    "Nothing to change on the relay: single mailboxes are full, disabled or unknown. Do not flush or delete; the retries go on until the messages bounce, so tell the senders or recipients if it matters.",
  "local-service":
    "The milter is down: restore it; do not delete. Start the milter/policy/content-filter service (or disable it only if policy allows), then replay one message to confirm.",
  storage:
    "Free space or inodes safely (logs, caches) or grow the spool's filesystem. Do not run cleanup scripts that rm queue files.",
  config:
    "Fix Postfix's own configuration first (master.cf, main.cf; the log says why) before touching the queue contents. Do not restart repeatedly.",
  corruption:
    "Stop the urge to clean up: preserve the spool, check the filesystem's health, and only once storage is stable requeue (postsuper -r). Do not delete queue files.",
  reputation:
    "Request delisting from each list that names the address (its lookup page gives the reason and the removal form), after fixing what got you listed (a compromised account, an app in a loop, open relaying). Do not requeue ALL into the listing: every retry to a provider that checks it is refused again and deepens the listing. Hold the affected mail or let the backoff carry it; requeue only once delisted.",
  tls: "Renew the relay's certificate (smtpd_tls_cert_file) before clients refuse it, then postfix reload. Do not disable TLS to work around it.",
  "bounce-storm":
    "Find the source first: a bounce storm is a sender problem (a list never cleaned, an app sending to bad addresses, or backscatter from accepted spam to forged senders). Stop accepting what you cannot deliver (reject unknown recipients at smtpd, content filtering before queueing); do not requeue the bounces.",
};

const TITLES: Record<FindingClass, string> = {
  dns: "DNS lookups fail for failing destinations",
  network: "The relay cannot connect to failing destinations",
  "remote-throttling": "Remote sites throttle or greylist (4xx)",
  policy: "Remote sites refuse on policy or reputation (4xx)",
  recipient: "Recipients' mailboxes are full, disabled or unknown (4xx)",
  "local-service": "A local milter, policy or content-filter service fails",
  storage: "Deliveries fail for lack of space",
  config: "Configuration errors defer mail",
  corruption: "Postfix reports corrupt queue files",
  reputation: "The relay's sending address is on a blocklist",
  tls: "The relay's TLS certificate expires",
  "bounce-storm": "A bounce storm",
};

/** Reason classes onto finding classes: TLS failures are a network path problem in the seed. */
function findingClassOf(c: ReasonClass): FindingClass | null {
  if (c === "tls") return "network";
  return isFindingClass(c) ? c : null;
}

const isFindingClass = (c: string): c is FindingClass => (FINDING_CLASSES as readonly string[]).includes(c);

const pct = (x: number) => `${Math.round(x * 100)}%`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export interface ProbePlan {
  /** Names to `dig MX`: destinations whose deferrals are DNS failures (from the reasons or the log). */
  dns: { name: string; domain: string }[];
  /** Where to `nc -vz`: the next hops the relay's own deferrals name, port included. */
  tcp: { host: string; port: number; domain: string }[];
  /** Destinations that failed to connect but named no address: MX lookup, then port 25. */
  mxFallback: string[];
}

const MAX_DNS = 5;
const MAX_TCP = 5;

/**
 * What triage may probe: only names and addresses the relay's own deferral reasons and log
 * lines name, validated as host names or IP addresses. Nothing typed by a person gets here.
 */
export function probePlan(s: RelaySnapshot, log: LogFacts | null): ProbePlan {
  const dns = new Map<string, string>();
  const tcp = new Map<string, { host: string; port: number; domain: string }>();
  const fallback = new Set<string>();
  const addTcp = (host: string, port: number, domain: string) => {
    if (tcp.size < MAX_TCP && !tcp.has(`${host}:${port}`)) tcp.set(`${host}:${port}`, { host, port, domain });
  };
  for (const r of s.topReasons) {
    const cls = findingClassOf(r.class);
    const n = /name service error for name=(\S+?)\.? type=(?:MX|A|AAAA)\b/i.exec(r.reason);
    if (cls === "dns" && n?.[1] && isHostName(n[1]) && dns.size < MAX_DNS) dns.set(n[1].toLowerCase(), n[1]);
    const c = /connect to (\S+?\[[^\]]+\](?::\d{1,5})?)/i.exec(r.reason);
    const hop = c?.[1] ? parseNextHop(c[1]) : null;
    if (cls === "network" && hop) addTcp(hop.host, hop.port ?? 25, "");
  }
  for (const d of log?.destinations ?? []) {
    const cls = findingClassOf(d.mainClass);
    if (cls === "dns" && isHostName(d.domain) && dns.size < MAX_DNS && !dns.has(d.domain))
      dns.set(d.domain, d.domain);
    if (cls !== "network" && cls !== "remote-throttling") continue;
    const hop = d.nextHops.map(parseNextHop).find((h) => h !== null);
    if (hop) addTcp(hop.host, hop.port ?? 25, d.domain);
    else if (cls === "network" && isHostName(d.domain) && fallback.size < MAX_DNS) fallback.add(d.domain);
  }
  // Name the destination behind each address when the log knows it (same host and port).
  for (const t of tcp.values())
    if (!t.domain)
      t.domain =
        log?.destinations.find((d) =>
          d.nextHops.some((h) => {
            const n = parseNextHop(h);
            return n?.host === t.host && (n.port ?? 25) === t.port;
          }),
        )?.domain ?? "";
  return {
    dns: [...dns].map(([domain, name]) => ({ name, domain })),
    tcp: [...tcp.values()],
    mxFallback: [...fallback],
  };
}

/** nc targets from MX answers, for destinations whose deferrals named no address: port 25. */
export function mxFallbackTargets(
  plan: ProbePlan,
  dns: DnsProbe[],
): { host: string; port: number; domain: string }[] {
  const out: { host: string; port: number; domain: string }[] = [];
  for (const domain of plan.mxFallback) {
    const mx = dns.find((p) => p.name.toLowerCase() === domain.toLowerCase())?.exchanges[0];
    if (mx && isHostName(mx) && plan.tcp.length + out.length < MAX_TCP)
      out.push({ host: mx.replace(/\.$/, ""), port: 25, domain });
  }
  return out;
}

interface Draft {
  cls: FindingClass;
  recipients: number;
  rows: string[];
  domains: Map<string, number>;
}

function warningEvidence(ws: WarningSummary[], kinds: string[]): string[] {
  return ws.filter((w) => kinds.includes(w.kind)).flatMap((w) => [`${w.count}× in the log:`, ...w.examples]);
}

function concurrencyLine(settings: Record<string, string>): string {
  const keys = [
    "smtp_destination_concurrency_limit",
    "default_destination_concurrency_limit",
    "default_process_limit",
    "qmgr_message_active_limit",
  ];
  const bits = keys.filter((k) => settings[k] !== undefined).map((k) => `${k} = ${settings[k]}`);
  return bits.length ? `Now: ${bits.join(", ")}.` : "";
}

/** Findings, largest share first, from what triage read. Pure. */
export function triage(input: TriageInput): RelayTriage {
  const s = input.snapshot;
  const log = input.log;
  const settings = s.postfix?.concurrency ?? {};
  const base: RelayTriage = {
    relay: s.relay,
    ok: s.ok,
    takenAt: s.takenAt,
    queue: {
      messages: s.messages,
      recipients: s.recipients,
      active: s.queues.active,
      deferred: s.queues.deferred,
      hold: s.queues.hold,
      incoming: s.queues.incoming,
      maildrop: s.queues.maildrop,
    },
    findings: [],
    unexplained: [],
    intake: null,
    checklist: [],
    settings,
    probeErrors: [
      ...s.probeErrors.map((p) => `${s.relay}: ${p.probe}: ${p.message}`),
      ...(input.probeErrors ?? []),
    ],
  };
  if (!s.ok) {
    base.error = s.error ?? "the relay did not answer";
    base.checklist.push({ step: "reach the relay", ok: false, detail: base.error });
    return base;
  }
  const out: Finding[] = [];
  const warnings = log?.warnings ?? [];
  const warn = (k: string) => warnings.find((w) => w.kind === k);
  const recipients = Math.max(1, s.recipients);
  const queueOf = (domain: string) => s.topDomains.find((d) => d.domain === domain)?.count ?? 0;
  const destOf = (domain: string): DestinationFacts | undefined =>
    log?.destinations.find((d) => d.domain === domain);

  // 1. Postfix itself: master and qmgr (seed task 16: no qmgr, no draining, whatever else is fixed).
  const sv = s.service;
  const fatal = warningEvidence(warnings, ["fatal"]);
  // master's "warning: process /usr/lib/postfix/sbin/qmgr pid N exit status 1" and qmgr's own fatal lines
  const qmgrDied = (warn("fatal")?.examples ?? []).filter((l) =>
    /\/qmgr\[\d+\]: (?:fatal|panic)|sbin\/qmgr pid/.test(l),
  );
  if (sv && !sv.masterRunning)
    out.push({
      class: "config",
      share: 1,
      scope: "relay",
      title: "Postfix's master is not running: nothing is delivered",
      evidence: [`postfix status: ${sv.statusMessage || "not running"}`, ...fatal],
      recommendation:
        "Start Postfix once, then read the log for why it stopped; fix that before touching the queue. Do not delete queued mail.",
      destinations: [],
    });
  else if (sv && !sv.qmgrRunning)
    out.push({
      class: "config",
      share: 1,
      scope: "relay",
      title: "qmgr is missing: the queue cannot drain",
      evidence: [
        `master PID ${sv.masterPid ?? "?"} is running with no qmgr child (ps -eo pid,ppid,etimes,comm,args)`,
        ...fatal,
      ],
      recommendation:
        "qmgr is missing: check master.cf (the qmgr line) and the log for errors, then postfix reload. The queue won't drain regardless of remote reachability; do not touch queue contents meanwhile.",
      destinations: [],
    });
  else if (sv?.qmgrUptimeS !== undefined && sv.qmgrUptimeS < 60 && qmgrDied.length)
    out.push({
      class: "config",
      share: 1,
      scope: "relay",
      title: "qmgr keeps respawning",
      evidence: [`qmgr has been up ${sv.qmgrUptimeS} s`, ...qmgrDied],
      recommendation:
        "qmgr is crashing and being restarted: read the fatal lines, fix master.cf/main.cf, then reload once.",
      destinations: [],
    });

  // 2. Storage: df of the spool and Postfix's own space/write warnings (seed task 9).
  const d = s.disk;
  const space = warningEvidence(warnings, ["space", "write-error"]);
  if (d?.warning || space.length) {
    out.push({
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
        ...space,
      ],
      recommendation: LEVERS.storage,
      destinations: [],
    });
    for (const f of out)
      if (f.class === "config") {
        f.title = `${f.title} (the spool is full: Postfix cannot create its files)`;
        f.recommendation = `Free space and inodes on the spool first (see the storage finding); a restart or a master.cf change will not help while it is full. Then: ${f.recommendation}`;
      }
  }

  // 3. Deferral reasons in the queue, by class (seed tasks 4 and 10), with their destinations.
  const drafts = new Map<FindingClass, Draft>();
  const draft = (cls: FindingClass) => {
    let x = drafts.get(cls);
    if (!x) {
      x = { cls, recipients: 0, rows: [], domains: new Map() };
      drafts.set(cls, x);
    }
    return x;
  };
  for (const r of s.topReasons) {
    const cls = findingClassOf(r.class);
    if (!cls) {
      base.unexplained.push({ reason: r.reason, recipients: r.count });
      continue;
    }
    const x = draft(cls);
    x.recipients += r.count;
    x.rows.push(`${plural(r.count, "recipient")} in the queue: ${r.reason}`);
  }
  for (const dom of s.topDomains) {
    const f = destOf(dom.domain);
    const cls = f ? findingClassOf(f.mainClass) : null;
    if (cls && drafts.has(cls)) draft(cls).domains.set(dom.domain, dom.count);
  }

  // Milters and policy services (seed task 8): in the log even when nothing is queued.
  const milterRejects = warn("milter-reject");
  const milterDown = warningEvidence(warnings, ["milter", "policy"]);
  if (milterRejects || milterDown.length || drafts.has("local-service")) {
    const x = draft("local-service");
    x.rows.push(...milterDown, ...warningEvidence(warnings, ["milter-reject"]));
  }

  for (const x of drafts.values()) {
    const destinations = [...x.domains]
      .map(([domain, n]) => ({ domain, recipients: n }))
      .sort((a, b) => b.recipients - a.recipients);
    let share = Math.min(1, x.recipients / recipients);
    let scope: Finding["scope"] = "queue";
    let title = TITLES[x.cls];
    const evidence = [...x.rows];
    let recommendation = LEVERS[x.cls];
    const samples: Partial<Record<string, string>> = log?.sampleLineByClass ?? {};
    const sampleLine = x.cls === "corruption" ? undefined : samples[x.cls];
    if (sampleLine && !evidence.includes(sampleLine)) evidence.push(sampleLine);
    if (x.cls === "dns") {
      const ps = input.dns;
      evidence.push(...ps.map((p) => p.output));
      const bad = ps.filter((p) => p.status !== "NOERROR" || p.exchanges.length === 0);
      const slow = ps.filter((p) => (p.queryMs ?? 0) >= 1000);
      if (ps.length && bad.length === 0 && slow.length === 0)
        recommendation = `${recommendation} The resolver answers now (${ps.map((p) => `${p.name} in ${p.queryMs ?? "?"} ms`).join(", ")}): the failure may be intermittent; watch before requeueing.`;
      else if (slow.length) title = "DNS lookups are slow or fail for failing destinations";
    }
    if (x.cls === "network" || x.cls === "remote-throttling") {
      const probes = input.tcp.filter(
        (p) => x.domains.has(p.domain) || (p.domain === "" && x.cls === "network"),
      );
      evidence.push(...probes.map((p) => p.output));
      if (x.cls === "remote-throttling" && probes.some((p) => p.ok))
        evidence.push("the host accepts TCP connections: it is the SMTP answer (4xx) that defers");
      if (x.cls === "network" && probes.length && probes.every((p) => p.ok))
        recommendation = `${recommendation} The probe connects now: the failure may be intermittent or on another path; test one message (postqueue -i) before any requeue.`;
    }
    if (x.cls === "local-service" && milterRejects) {
      share = 1;
      scope = "relay";
      title = "The milter is down: new mail is refused with 4xx at intake";
    } else if (x.cls === "local-service" && milterDown.length && x.recipients === 0) {
      scope = "relay";
      title = "A milter or policy service does not answer";
    }
    if (x.cls === "remote-throttling") {
      const now = concurrencyLine(settings);
      if (now) recommendation = `${recommendation} ${now}`;
    }
    // One destination dominating the queue (seed task 10, mistake 6): isolate it.
    const top = s.topDomains[0];
    if (top && s.topDomains.length > 1 && top.count / recipients >= 0.5 && x.domains.has(top.domain)) {
      title = `${title}: ${top.domain} holds ${pct(top.count / recipients)} of the queue`;
      recommendation = `One destination holds ${pct(top.count / recipients)} of the queue (${top.domain}): lower its concurrency or isolate it (a transport of its own) so the rest keeps flowing. ${recommendation}`;
    }
    const sample = destinations.map((dd) => destOf(dd.domain)?.sampleQueueId).find((id) => !!id);
    out.push({
      class: x.cls,
      share,
      scope,
      title,
      evidence,
      recommendation,
      destinations,
      ...(sample ? { sampleQueueId: sample } : {}),
    });
  }

  // 4. qmgr's congestion warning: one destination hogging the active queue.
  const congestion = warn("congestion");
  if (congestion) {
    for (const dom of congestion.subjects.slice(0, 3)) {
      const f = destOf(dom);
      const cls = (f && findingClassOf(f.mainClass)) || "remote-throttling";
      const ev = congestion.examples.filter((e) => e.includes(` ${dom} `));
      const existing = out.find((o) => o.class === cls && o.destinations.some((x) => x.domain === dom));
      const advice = `Lower ${dom}'s concurrency or isolate it with a transport of its own; do not raise qmgr_message_active_limit to hide it.`;
      if (existing) {
        existing.evidence.push(...ev);
        if (!existing.recommendation.includes(advice)) existing.recommendation += ` ${advice}`;
      } else
        out.push({
          class: cls,
          share: Math.min(1, queueOf(dom) / recipients),
          scope: "queue",
          title: `Mail for ${dom} fills the active queue`,
          evidence: ev,
          recommendation: `${advice} ${concurrencyLine(settings)}`.trim(),
          destinations: queueOf(dom) ? [{ domain: dom, recipients: queueOf(dom) }] : [],
        });
    }
  }

  // 5. Process limits reached: deliveries are slow or the limit is too low.
  const limit = warn("process-limit");
  if (limit)
    out.push({
      class: "config",
      share: 0,
      scope: "relay",
      title: `${limit.subjects.map((x) => `"${x}"`).join(", ") || "A service"} has reached its process limit`,
      evidence: warningEvidence(warnings, ["process-limit"]),
      recommendation:
        `Deliveries are slow (see the other findings) or the limit is low. Fix the slowness first; raise the process limit only if the host has headroom, and never while remote sites throttle. ${concurrencyLine(settings)}`.trim(),
      destinations: [],
    });

  // 6. Corrupt queue files (seed mistake 5).
  const corrupt = warningEvidence(warnings, ["corruption"]);
  const setAside = input.corruptFiles ?? 0;
  if (setAside > 0)
    corrupt.unshift(
      `${setAside.toLocaleString("en-US")} file(s) in ${s.disk?.path ?? "the queue directory"}/corrupt: set aside by Postfix, never delivered`,
    );
  if (corrupt.length)
    out.push({
      class: "corruption",
      share: 0,
      scope: "relay",
      title: "Postfix reports corrupt queue files",
      evidence: corrupt,
      recommendation: LEVERS.corruption,
      destinations: [],
    });

  // 7. Checklist B: blocklists, reverse DNS, the certificate, bounces and policy refusals.
  out.push(...worldFindings(input, Date.parse(s.takenAt), recipients));

  out.sort(
    (a, b) => b.share - a.share || FINDING_CLASSES.indexOf(a.class) - FINDING_CLASSES.indexOf(b.class),
  );
  base.findings = out;
  base.intake = intake(s, log);
  base.checklist = checklist(s, log, input);
  return base;
}

/**
 * Intake against drain, from the log: new queue files (cleanup's message-id lines) against
 * messages removed (qmgr's "removed") over the window the lines cover. One reading is enough,
 * and the log says which way mail moves even when the queue size alone looks flat.
 */
function intake(s: RelaySnapshot, log: LogFacts | null): Intake | null {
  if (!log || log.firstMs === null || log.lastMs === null) return null;
  const minutes = Math.max((log.lastMs - log.firstMs) / 60_000, 1 / 60);
  const growing = log.newMessages >= 10 && log.newMessages > log.removed * 1.5;
  const rate = (n: number) => `${(n / minutes).toFixed(1)}/min`;
  const verdict = `${log.newMessages} new, ${log.removed} removed in the last ${minutes < 1 ? `${Math.round(minutes * 60)} s` : `${Math.round(minutes)} min`} of the log (${rate(log.newMessages)} in, ${rate(log.removed)} out): ${growing ? "mail arrives faster than it leaves" : log.newMessages > log.removed ? "intake slightly ahead of drain" : "not growing"}`;
  const topSender = s.topSenderDomains[0];
  const flood =
    topSender && s.messages > 0 && topSender.count / s.messages >= 0.5
      ? ` ${topSender.domain} sent ${pct(topSender.count / s.messages)} of the queued messages: check it first.`
      : "";
  return {
    windowMinutes: Math.round(minutes * 10) / 10,
    newMessages: log.newMessages,
    removed: log.removed,
    growing,
    verdict,
    recommendation: growing
      ? `If an internal source is flooding (an app in a loop, a compromised account), rate-limit or block it at the edge (4xx) before recovering the queue; avoid postfix stop as a first reflex.${flood}`
      : null,
  };
}

function checklist(s: RelaySnapshot, log: LogFacts | null, input: TriageInput): Check[] {
  const q = s.queues;
  const top = s.topReasons[0];
  const c: Check[] = [
    {
      step: "queue size and top error",
      ok: s.messages === 0,
      detail: `${s.messages} messages, ${s.recipients} recipients${top ? `; top: ${top.count}× ${top.reason}` : ""}`,
    },
    {
      step: "active vs deferred",
      ok: true,
      detail: `active ${q.active}, deferred ${q.deferred}, hold ${q.hold}, incoming ${q.incoming}, maildrop ${q.maildrop}${q.deferred > q.active * 10 && q.deferred > 0 ? ": mostly deferred, Postfix tried and backed off" : ""}`,
    },
  ];
  const d = s.disk;
  c.push({
    step: "spool disk and inodes",
    ok: d ? !d.warning : false,
    detail: d
      ? `${d.path}: ${d.bytes?.usedPercent ?? "?"}% of space, ${d.inodes?.usedPercent ?? "?"}% of inodes used`
      : "not measured",
  });
  const sv = s.service;
  c.push({
    step: "master and qmgr",
    ok: !!sv?.masterRunning && !!sv.qmgrRunning,
    detail: sv
      ? `master ${sv.masterRunning ? `PID ${sv.masterPid}` : "not running"}, qmgr ${sv.qmgrRunning ? `PID ${sv.qmgrPid} (up ${sv.qmgrUptimeS ?? "?"} s)` : "missing"}`
      : "not measured",
  });
  for (const p of input.dns)
    c.push({ step: "DNS", ok: p.status === "NOERROR" && (p.queryMs ?? 0) < 1000, detail: p.output });
  for (const p of input.tcp) c.push({ step: "TCP", ok: p.ok, detail: p.output });
  c.push(...worldChecks(input, Date.parse(s.takenAt)));
  if (log)
    c.push({
      step: "milter, policy and Postfix warnings",
      ok: log.warnings.length === 0,
      detail: log.warnings.length
        ? log.warnings.map((w) => `${w.kind} ×${w.count}`).join(", ")
        : `none in ${log.linesRead} lines of ${log.source}`,
    });
  return c;
}
