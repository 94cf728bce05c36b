import type { LogFacts } from "../log-facts.js";
import type { BlocklistProbe, CertProbe, OutboundIps, RdnsProbe } from "../reputation.js";
import type { RelaySnapshot } from "../snapshot.js";

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
  /** The safe next lever, and what not to do. */
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
