import { isRemoteReply, type StatusCode, statusCodeOf } from "./status-code.js";

export const REASON_CLASSES = [
  "dns",
  "network",
  "remote-throttling",
  "policy",
  "recipient",
  "local-service",
  "storage",
  "tls",
  "config",
  "other",
] as const;
export type ReasonClass = (typeof REASON_CLASSES)[number];

const PREFIXES = [/^delivery temporarily suspended:\s*/i, /^delivery deferred:\s*/i];
const EMAIL_RE = /<?[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?>?/g;

/**
 * One cause, one row: per-message detail (addresses, queue IDs, ticket-like tokens from
 * big providers) is replaced, the host, port and SMTP codes are kept.
 */
export function normaliseReason(reason: string): string {
  let r = reason.trim();
  for (let again = true; again; ) {
    again = false;
    for (const p of PREFIXES) {
      if (p.test(r)) {
        r = r.replace(p, "");
        again = true;
      }
    }
  }
  r = r
    .replace(EMAIL_RE, "<address>")
    .replace(/\b(queued as|id=|message id|msgid)\s*[0-9A-Za-z._-]+/gi, "$1 …")
    // provider trace tokens such as "t4si1234567abc.123 - gsmtp"
    .replace(/\b[0-9a-z]{6,}\.\d{1,4}(?= - gsmtp)/gi, "…")
    // long hex or base64-ish tokens with digits and letters mixed (session or trace IDs)
    .replace(
      /\b(?=[A-Za-z0-9+/=_-]{20,}\b)(?=[A-Za-z0-9+/=_-]*\d)(?=[A-Za-z0-9+/=_-]*[A-Za-z])[A-Za-z0-9+/=_-]{20,}\b/g,
      "…",
    )
    .replace(/\s+/g, " ")
    .trim();
  return r.length > 300 ? `${r.slice(0, 299)}…` : r;
}

/**
 * What an experienced operator does about a cause, in one word: the card and triage spell it out.
 * Most causes have one lever; a few classes split (a throttle is waited out or slowed down for).
 */
export const LEVERS = {
  "back-off":
    "slow down for this destination (its concurrency or rate) and let the retries drain it; do not flush",
  wait: "nothing to change here: the remote side asks for a retry, and Postfix retries by itself",
  reputation:
    "the sending IP or domain is judged: check the provider's postmaster tools and block lists, stop the source of complaints, ask for delisting; slow down meanwhile",
  authenticate:
    "make the mail verifiable: SPF, DKIM and DMARC aligned for the sender domain, a PTR with a matching forward name for the IP",
  "contact-remote": "only the remote side can change this: ask its postmaster or the recipient's admin",
  recipient:
    "one mailbox's problem (full, disabled, unknown): nothing to change on the relay; retries go on until it bounces, so tell the sender if it matters",
  "fewer-recipients":
    "send fewer recipients per message to this destination (its destination_recipient_limit)",
  "fix-dns": "fix the resolver or the name, then requeue gradually; do not flush",
  "fix-network": "fix the path to the destination (egress on port 25, routing, firewall); do not flush",
  "fix-tls": "fix TLS with this destination (certificates, the TLS policy for it, protocols)",
  "restore-service": "restore the local milter, policy or content-filter service; do not delete",
  "free-space": "free space or inodes on the spool's filesystem safely; never rm queue files",
  "fix-config": "fix Postfix's configuration (main.cf, master.cf, credentials) before touching the queue",
  read: "no rule explains it: read the reason itself",
} as const;
export type Lever = keyof typeof LEVERS;

/** The lever in two or three words, for a row of the status card. */
export const LEVER_SHORT: Record<Lever, string> = {
  "back-off": "slow down for it",
  wait: "wait: it retries",
  reputation: "fix the reputation",
  authenticate: "fix SPF/DKIM/DMARC/PTR",
  "contact-remote": "ask their postmaster",
  recipient: "the recipient's side",
  "fewer-recipients": "fewer recipients per message",
  "fix-dns": "fix DNS",
  "fix-network": "fix the network path",
  "fix-tls": "fix TLS",
  "restore-service": "restore the local service",
  "free-space": "free spool space",
  "fix-config": "fix Postfix's config",
  read: "read the reason",
};

export interface ReasonVerdict {
  class: ReasonClass;
  lever: Lever;
  /** The enhanced status code (RFC 3463) that decided, when there was one. */
  code: string | null;
}

const v = (cls: ReasonClass, lever: Lever, code: string | null = null): ReasonVerdict => ({
  class: cls,
  lever,
  code,
});

// Postfix's own failures: they name the cause whatever code goes with them.
const LOCAL_RULES: [RegExp, ReasonClass, Lever][] = [
  [
    /sasl authentication failed|no sasl authentication mechanisms|authentication required/i,
    "config",
    "fix-config",
  ],
  [
    /loops back to myself|unsupported transport|unknown mail transport\b(?! error)|transport .* not found|relay access denied/i,
    "config",
    "fix-config",
  ],
  [
    /milter|policy (?:service|server)|content.?filter|amavis|clamav|spamassassin|rspamd|private\/|unix:|mail transport unavailable|unknown mail transport error|connect to (?:127\.0\.0\.1|localhost|\[?::1\]?)\[[^\]]*\]:(?:10024|10026|8891|8892|10023|11332|11334)\b/i,
    "local-service",
    "restore-service",
  ],
  [
    /cannot start tls|tls is required, but|server certificate not trusted|untrusted issuer|tls handshake|starttls/i,
    "tls",
    "fix-tls",
  ],
];
const LOCAL_STORAGE =
  /no space left|insufficient (?:system )?storage|disk quota|file too large|queue file write error|too many open files|read-only file system/i;

const GREYLIST = /grey ?list|gray ?list/i;
const AUTH =
  /\bspf\b|\bdkim\b|\bdmarc\b|unauthenticated|authenticat(?:e|ion) (?:with|check|level|requirement)|ptr record|reverse (?:dns|hostname)|cannot find your (?:reverse )?hostname|\brdns\b|forward dns|not aligned/i;
// Only the remote side's admin can lift these: an allow-list, a block of its own, a domain it does not host.
const REMOTE_ADMIN =
  /not in (?:the )?(?:whitelist|allow ?list)|not (?:an )?allowed (?:ip|sender|host)|sender address blocked|blocked senders? policy|open relay not allowed/i;
const REPUTATION =
  /reputation|unsolicited|\bspam\b|block ?list|black ?list|blocked|\blisted\b|spamhaus|dnsbl|\brbl\b|permanently deferred|will not succeed|local policy|policy (?:reasons|restrictions|violations?)/i;
// The remote side failed for a moment; nothing asks us to slow down.
const TRANSIENT =
  /temporary (?:server|system) (?:error|problem)|internal (?:error|resource)|local error in processing|temporarily (?:rejected|unavailable)/i;
const THROTTLE =
  /rate.?limit|too many (?:connections|messages|concurrent|errors)|volume|too (?:quickly|fast)|limit (?:exceeded|reached)|exceeded|busy|throttl|try again|temporar|deferred|come back later|please retry|resources|congestion/i;
const RECIPIENT =
  /mailbox (?:is )?full|over ?quota|quota (?:exceeded|limit)|exceed(?:s|ed)? (?:the |its )?(?:storage|quota)|user unknown|unknown user|no such user|mailbox (?:unavailable|disabled|not found|inactive|temporarily)|account (?:is )?(?:disabled|inactive|suspended|locked)|receiving mail (?:at a rate|too quickly)/i;

/** A remote 4xx (or a 5xx held by soft_bounce) by its words alone, when it carries no code. */
function byRemoteWords(r: string): ReasonVerdict | null {
  if (GREYLIST.test(r)) return v("remote-throttling", "wait");
  if (AUTH.test(r)) return v("policy", "authenticate");
  if (REMOTE_ADMIN.test(r)) return v("policy", "contact-remote");
  if (RECIPIENT.test(r)) return v("recipient", "recipient");
  if (/user complaints/i.test(r) && !/volume/i.test(r)) return v("policy", "reputation");
  if (REPUTATION.test(r)) return v("policy", "reputation");
  if (/too many recipients|recipients? per/i.test(r)) return v("remote-throttling", "fewer-recipients");
  if (/\btls\b|starttls|encrypt/i.test(r)) return v("tls", "fix-tls");
  if (TRANSIENT.test(r)) return v("remote-throttling", "wait");
  if (THROTTLE.test(r)) return v("remote-throttling", "back-off");
  return null;
}

/** The enhanced code picks the class; the reply's words refine it within that class. */
function byCode(c: StatusCode, r: string, remote: boolean): ReasonVerdict {
  const at = (cls: ReasonClass, lever: Lever) => v(cls, lever, c.code);
  const refine = (fallback: ReasonVerdict) => {
    const w = byRemoteWords(r);
    return w ? { ...w, code: c.code } : fallback;
  };
  switch (c.subject) {
    case 1: // addressing
      if (c.detail === 7 || c.detail === 8) return at("policy", "authenticate");
      return GREYLIST.test(r) ? at("remote-throttling", "wait") : at("recipient", "recipient");
    case 2: // the mailbox
      if (GREYLIST.test(r)) return at("remote-throttling", "wait");
      if (/relay limit|limit exceeded for customer|rate limit/i.test(r))
        return at("remote-throttling", "back-off");
      return at("recipient", "recipient");
    case 3: // the mail system
      if (!remote) {
        if (c.detail === 1 || LOCAL_STORAGE.test(r)) return at("storage", "free-space");
        if (c.detail === 5) return at("config", "fix-config");
        return at("local-service", "restore-service");
      }
      if (/configuration|misconfigured/i.test(r)) return at("remote-throttling", "contact-remote");
      if (c.detail === 1 || /insufficient|resources|busy|too many|limit/i.test(r))
        return at("remote-throttling", "back-off");
      return at("remote-throttling", "wait");
    case 4: // network and routing
      if (c.detail === 3 || /name service|dns|lookup/i.test(r))
        return at("dns", remote ? "contact-remote" : "fix-dns");
      if (c.detail === 4 && !remote) return at("dns", "fix-dns");
      if (c.detail === 5) return at("remote-throttling", "back-off");
      if (c.detail === 6) return at("config", "fix-config");
      if (remote) return refine(at("network", "fix-network"));
      return at("network", "fix-network");
    case 5: // the SMTP protocol
      if (c.detail === 3) return at("remote-throttling", "fewer-recipients");
      if (/too many errors|blacklist|block/i.test(r)) return at("remote-throttling", "back-off");
      return at("config", "fix-config");
    case 6: // the content
      return refine(at("other", "read"));
    case 7: // security and policy
      if (/\btls\b|starttls|encrypt|certificate/i.test(r)) return at("tls", "fix-tls");
      if (GREYLIST.test(r)) return at("remote-throttling", "wait");
      if (AUTH.test(r)) return at("policy", "authenticate");
      if (REMOTE_ADMIN.test(r)) return at("policy", "contact-remote");
      if (/user complaints/i.test(r) && !/volume/i.test(r)) return at("policy", "reputation");
      if (REPUTATION.test(r)) return at("policy", "reputation");
      if (TRANSIENT.test(r)) return at("remote-throttling", "wait");
      if (THROTTLE.test(r)) return at("remote-throttling", "back-off");
      return at("policy", "reputation");
    default:
      return refine(at("other", "read"));
  }
}

// Without a code: Postfix's own words for what went wrong.
const TEXT_RULES: [RegExp, ReasonClass, Lever][] = [
  [
    /host or domain name not found|name service error|host not found|no mx host|mx host .* (?:has no|not found)|nameserver|dns (?:lookup|error|failure)|servfail|malformed dns|domain lookup failed/i,
    "dns",
    "fix-dns",
  ],
  [/\btls\b|ssl_|certificate|handshake/i, "tls", "fix-tls"],
  [/mail system configuration error|relayhost/i, "config", "fix-config"],
  [
    /connect to .*(?:connection refused|connection timed out|network is unreachable|no route to host|timed out)|connection timed out|connection refused|network is unreachable|no route to host|lost connection|conversation with .* timed out|connection reset|broken pipe/i,
    "network",
    "fix-network",
  ],
];

/**
 * The class of a deferral reason and the lever for it. The enhanced status code (from the
 * reply, else Postfix's dsn=) picks the class, since it is the sender's own classification;
 * the words refine it. Postfix's own local failures (a milter, the spool, SASL) come first.
 */
export function explainReason(reason: string, dsn?: string): ReasonVerdict {
  const remote = isRemoteReply(reason);
  for (const [re, cls, lever] of LOCAL_RULES)
    if (re.test(reason)) return v(cls, lever, statusCodeOf(reason, dsn)?.code ?? null);
  if (!remote && LOCAL_STORAGE.test(reason))
    return v("storage", "free-space", statusCodeOf(reason, dsn)?.code ?? null);
  const code = statusCodeOf(reason, dsn);
  if (code && code.class !== 2) return byCode(code, reason, remote);
  if (remote) {
    const w = byRemoteWords(reason);
    if (w) return w;
  }
  for (const [re, cls, lever] of TEXT_RULES) if (re.test(reason)) return v(cls, lever);
  if (remote) {
    if (LOCAL_STORAGE.test(reason)) return v("recipient", "recipient");
    if (/said: 4\d\d\b/i.test(reason)) return v("remote-throttling", "wait");
  }
  return v("other", "read");
}

export function classifyReason(reason: string, dsn?: string): ReasonClass {
  return explainReason(reason, dsn).class;
}

/** A short label for the headline: "connect timeout to mx.remote.tld". */
export function shortCause(reason: string): string {
  const connect = /^connect to ([^\s[]+)(?:\[[^\]]*\])?(?::\d+)?: (.+)$/i.exec(reason);
  if (connect) {
    const what = (connect[2] ?? "").toLowerCase().replace("connection timed out", "connect timeout");
    return `${what.length > 40 ? `${what.slice(0, 39)}…` : what} to ${connect[1]}`;
  }
  const dns = /name service error for name=(\S+) type=(\w+)/i.exec(reason);
  if (dns) return `DNS ${dns[2]} lookup failing for ${dns[1]}`;
  const said = /^host ([^\s[]+)(?:\[[^\]]*\])? said: (\d{3}(?: \d\.\d{1,3}\.\d{1,3})?)/i.exec(reason);
  if (said) return `${said[2]} from ${said[1]}`;
  return reason.length > 80 ? `${reason.slice(0, 79)}…` : reason;
}
