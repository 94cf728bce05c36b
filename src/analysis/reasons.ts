export const REASON_CLASSES = [
  "dns",
  "network",
  "remote-throttling",
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

interface Rule {
  cls: ReasonClass;
  re: RegExp;
}

// Order matters: the first match wins, most specific first.
const RULES: Rule[] = [
  {
    cls: "storage",
    re: /no space left|insufficient (?:system )?storage|disk quota|file too large|queue file write error|too many open files|read-only file system/i,
  },
  {
    cls: "local-service",
    re: /milter|policy (?:service|server)|content.?filter|amavis|clamav|spamassassin|rspamd|private\/|unix:|mail transport unavailable|unknown mail transport error|connect to (?:127\.0\.0\.1|localhost|\[?::1\]?)\[[^\]]*\]:(?:10024|10026|8891|8892|10023|11332|11334)\b/i,
  },
  {
    cls: "tls",
    re: /\btls\b|starttls|ssl_|certificate|handshake|cannot start tls|tls is required|server certificate not trusted|untrusted issuer/i,
  },
  {
    cls: "dns",
    re: /host or domain name not found|name service error|host not found|no mx host|mx host .* (?:has no|not found)|nameserver|dns (?:lookup|error|failure)|servfail|malformed dns|domain lookup failed/i,
  },
  {
    cls: "config",
    re: /loops back to myself|relay access denied|unsupported transport|unknown (?:mail )?transport|transport .* not found|sasl authentication failed|no sasl authentication mechanisms|authentication required|relayhost|unknown user|recipient address rejected: .*(?:not in|unknown)/i,
  },
  {
    cls: "remote-throttling",
    re: /said: (?:421|450|451|452|454)\b|\b4\.7\.[0-9]+\b|\b4\.2\.[0-9]\b|try again later|rate.?limit|greylist|throttl|too many (?:connections|messages|recipients)|temporarily (?:deferred|rejected)|deferred due to|resources temporarily unavailable|service (?:currently )?unavailable|please retry/i,
  },
  {
    cls: "network",
    re: /connect to .*(?:connection refused|connection timed out|network is unreachable|no route to host|timed out)|connection timed out|connection refused|network is unreachable|no route to host|lost connection|conversation with .* timed out|connection reset|broken pipe/i,
  },
];

export function classifyReason(reason: string): ReasonClass {
  for (const r of RULES) if (r.re.test(reason)) return r.cls;
  return "other";
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
