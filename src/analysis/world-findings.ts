import { POLICY_RE } from "../parsers/maillog-warnings.js";
import { LEVERS } from "./triage/levers.js";
import type { Check, Finding, TriageInput } from "./triage/types.js";

/**
 * Checklist B (why the world refuses us) as findings: blocklists, reverse DNS, the relay's
 * certificate, SPF/DKIM/DMARC refusals, the relay's own 5.7.1 rejects and bounce storms. Pure.
 */

const DAY_MS = 86_400_000;
/** Bounces within the last window of the log that make a storm, and how far above baseline. */
const STORM_WINDOW_MS = 10 * 60_000;
const STORM_MIN = 20;
const STORM_FACTOR = 3;
const REPUTATION_RE =
  /block ?list|black ?list|\blisted\b|spamhaus|barracuda|spamcop|dnsbl|\brbl\b|reputation|user complaints/i;

const sharedOf = (input: TriageInput, re: RegExp, recipients: number) =>
  Math.min(
    1,
    input.snapshot.topReasons.filter((r) => re.test(r.reason)).reduce((a, r) => a + r.count, 0) / recipients,
  );

export function worldFindings(input: TriageInput, nowMs: number, recipients: number): Finding[] {
  const w = input.world;
  const log = input.log;
  const out: Finding[] = [];

  const listed = w?.blocklists.filter((b) => b.status === "listed") ?? [];
  if (w && listed.length) {
    const unknown = w.blocklists.filter((b) => b.status === "unknown");
    const clean = w.blocklists.filter((b) => b.status === "not listed");
    const share = sharedOf(input, REPUTATION_RE, recipients);
    out.push({
      class: "reputation",
      share,
      scope: share > 0 ? "queue" : "relay",
      title: `${[...new Set(listed.map((b) => b.ip))].join(", ")} is listed on ${listed.map((b) => b.zone).join(", ")}`,
      evidence: [
        `outbound address from ${w.outbound.source}`,
        ...listed.map((b) => b.output),
        ...unknown.map((b) => b.output),
        ...(clean.length ? [`not listed on ${clean.map((b) => `${b.zone} (${b.ip})`).join(", ")}`] : []),
        ...input.snapshot.topReasons
          .filter((r) => REPUTATION_RE.test(r.reason))
          .slice(0, 3)
          .map((r) => `${r.count} recipient(s) in the queue: ${r.reason}`),
      ],
      recommendation: `Listed on ${listed.map((b) => b.zone).join(", ")}. ${LEVERS.reputation}`,
      destinations: [],
    });
  }

  for (const r of w?.rdns ?? []) {
    if (r.status === "match" || r.status === "unknown") continue;
    const title =
      r.status === "missing"
        ? `${r.ip} has no reverse DNS (PTR)`
        : r.status === "unconfirmed"
          ? `Reverse DNS of ${r.ip} is not forward-confirmed (${r.ptr[0] ?? "?"} does not resolve back to it)`
          : `Reverse DNS of ${r.ip} (${r.ptr.join(", ")}) does not match the HELO name ${r.helo || "(unknown)"}`;
    out.push({
      class: "dns",
      share: 0,
      scope: "relay",
      title,
      evidence: [`outbound address from ${w?.outbound.source ?? "?"}`, ...r.evidence],
      recommendation: `Large providers defer or refuse mail from addresses without matching, forward-confirmed reverse DNS. Ask whoever holds ${r.ip}'s reverse zone (the ISP or cloud provider) to set its PTR to ${r.helo || "the HELO name"}, and make that name resolve to ${r.ip}; or set smtp_helo_name to a name that does both. Do not flush meanwhile: every retry meets the same check.`,
      destinations: [],
    });
  }

  const cert = w?.cert;
  if (w && cert?.notAfterMs != null && cert.notAfterMs - nowMs < w.certWarnDays * DAY_MS) {
    const days = Math.floor(Math.abs(cert.notAfterMs - nowMs) / DAY_MS);
    const expired = cert.notAfterMs <= nowMs;
    out.push({
      class: "tls",
      share: 0,
      scope: "relay",
      title: expired
        ? `The relay's TLS certificate expired ${days === 0 ? "today" : `${days} day(s) ago`}`
        : `The relay's TLS certificate expires in ${days} day(s)`,
      evidence: [cert.output],
      recommendation: LEVERS.tls,
      destinations: [],
    });
  }

  const refusals = log?.policyRefusals ?? [];
  if (refusals.length) {
    const queueOf = (d: string) => input.snapshot.topDomains.find((x) => x.domain === d)?.count ?? 0;
    const share = sharedOf(input, POLICY_RE, recipients);
    out.push({
      class: "policy",
      share,
      scope: "queue",
      title: `${refusals
        .slice(0, 3)
        .map((p) => p.domain)
        .join(", ")} refuse mail on SPF/DKIM/DMARC`,
      evidence: refusals
        .slice(0, 5)
        .flatMap((p) => [`${p.count}× dsn=${p.dsn} for ${p.domain}: ${p.text}`, p.sample]),
      recommendation: LEVERS.policy,
      destinations: refusals.map((p) => ({ domain: p.domain, recipients: queueOf(p.domain) })),
    });
  }

  const rejects = log?.smtpdRejects ?? [];
  if (rejects.length) {
    const total = rejects.reduce((a, r) => a + r.count, 0);
    const clients = new Set(rejects.map((r) => r.client));
    out.push({
      class: "policy",
      share: 0,
      scope: "relay",
      title: `The relay's own smtpd refused ${total} request(s) with ${[...new Set(rejects.map((r) => r.dsn))].join("/")} from ${clients.size} client(s)`,
      evidence: rejects.slice(0, 5).flatMap((r) => [`${r.count}× ${r.client}: ${r.reason}`, r.sample]),
      recommendation:
        "A client that should relay through this host is missing from mynetworks (or lacks SASL): add it there. A client that should not is probing for an open relay: block it at the edge. Never widen relaying to silence the errors; the queue is not involved.",
      destinations: [],
    });
  }

  const storm = bounceStorm(input);
  if (storm) out.push(storm);
  return out;
}

interface BounceRates {
  recent: number;
  recentMinutes: number;
  before: number;
  beforeMinutes: number;
}

function bounceRates(input: TriageInput): BounceRates | null {
  const log = input.log;
  if (!log || log.firstMs === null || log.lastMs === null) return null;
  const cut = log.lastMs - STORM_WINDOW_MS;
  let recent = 0;
  let before = 0;
  for (const [minute, n] of log.bounces.perMinute)
    if (minute + 60_000 > cut) recent += n;
    else before += n;
  const recentMinutes = Math.max(1, Math.min(STORM_WINDOW_MS, log.lastMs - log.firstMs) / 60_000);
  const beforeMinutes = Math.max(0, (cut - log.firstMs) / 60_000);
  return { recent, recentMinutes, before, beforeMinutes };
}

const perMin = (n: number, minutes: number) => `${(n / minutes).toFixed(1)}/min`;

function bounceStorm(input: TriageInput): Finding | null {
  const r = bounceRates(input);
  const b = input.log?.bounces;
  if (!r || !b || r.recent < STORM_MIN) return null;
  const baseline = r.beforeMinutes >= 1 ? r.before / r.beforeMinutes : null;
  const rate = r.recent / r.recentMinutes;
  if (baseline !== null && rate < STORM_FACTOR * baseline) return null;
  const forged =
    b.notificationsFailed > 0
      ? `${b.notificationsFailed} of the ${b.notifications} non-delivery notifications the relay sent could not be delivered themselves: their senders do not exist (forged senders, backscatter)`
      : `${b.notifications} non-delivery notification(s) sent, none undeliverable: the senders look real`;
  return {
    class: "bounce-storm",
    share: 0,
    scope: "relay",
    title: `A bounce storm: ${r.recent} bounces in the last ${Math.round(r.recentMinutes)} min of the log (${perMin(r.recent, r.recentMinutes)})`,
    evidence: [
      baseline === null
        ? `${r.recent} bounced in ${Math.round(r.recentMinutes)} min; the log holds no earlier window to compare`
        : `${perMin(r.recent, r.recentMinutes)} now against a baseline of ${baseline.toFixed(1)}/min over the ${Math.round(r.beforeMinutes)} min before`,
      ...b.byCause.slice(0, 3).flatMap((c) => [`${c.count}× ${c.cause}`, c.sample]),
      forged,
    ],
    recommendation: LEVERS["bounce-storm"],
    destinations: [],
  };
}

export function worldChecks(input: TriageInput, nowMs: number): Check[] {
  const w = input.world;
  const c: Check[] = [];
  if (w) {
    c.push({
      step: "outbound addresses",
      ok: w.outbound.ips.length > 0,
      detail: w.outbound.ips.length
        ? `${w.outbound.ips.join(", ")} (from ${w.outbound.source})`
        : "unknown: smtp_bind_address is not set; list the relay's sending addresses as outboundIps in the config to check blocklists and reverse DNS",
    });
    for (const b of w.blocklists)
      c.push({ step: "blocklist", ok: b.status === "not listed", detail: b.output });
    for (const r of w.rdns)
      c.push({
        step: "reverse DNS",
        ok: r.status === "match",
        detail: `${r.ip}: ${r.status}; ${r.evidence.join("; ")}`,
      });
    if (w.cert)
      c.push({
        step: "TLS certificate",
        ok: w.cert.notAfterMs !== null && w.cert.notAfterMs - nowMs >= w.certWarnDays * DAY_MS,
        detail: w.cert.output,
      });
  }
  const r = bounceRates(input);
  if (r && input.log)
    c.push({
      step: "bounces",
      ok: bounceStorm(input) === null,
      detail: `${input.log.bounced} bounced in the log window; ${r.recent} in the last ${Math.round(r.recentMinutes)} min`,
    });
  return c;
}
