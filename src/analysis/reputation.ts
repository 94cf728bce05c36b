import { isHostName, isIp } from "../parsers/hosts.js";

/**
 * Checklist B (why the world refuses us), the pure half: which addresses the relay
 * sends from, what the blocklists, reverse DNS and the relay's own certificate say about
 * them, judged into verdicts. The probes (src/relay/triage-probes.ts) only fetch the answers.
 */

export interface OutboundIps {
  ips: string[];
  /** Where they came from: "config (outboundIps)", "postconf smtp_bind_address", … */
  source: string;
}

export interface BlocklistProbe {
  ip: string;
  zone: string;
  /** A listing is an answer; NXDOMAIN is "not listed"; a timeout or any failure is "unknown". */
  status: "listed" | "not listed" | "unknown";
  answers: string[];
  output: string;
}

export interface RdnsProbe {
  ip: string;
  /** The name the relay says HELO with (smtp_helo_name, else myhostname). */
  helo: string;
  /** match: PTR = HELO name and that name resolves back to the IP; unknown: a lookup failed. */
  status: "match" | "mismatch" | "missing" | "unconfirmed" | "unknown";
  ptr: string[];
  /** Addresses of the PTR name (forward confirmation). */
  forward: string[];
  evidence: string[];
}

export interface CertProbe {
  file: string;
  /** notAfter (ms); null when it could not be read. */
  notAfterMs: number | null;
  output: string;
}

/** `1.2.3.4` + `zen.example` → `4.3.2.1.zen.example`; IPv6 as nibbles. */
export function dnsblQuery(ip: string, zone: string): string {
  return `${reverseName(ip)}.${zone.replace(/\.$/, "")}`;
}

/** The reverse-lookup labels of an address, without the in-addr.arpa / ip6.arpa suffix. */
export function reverseName(ip: string): string {
  if (ip.includes(".") && !ip.includes(":")) return ip.split(".").reverse().join(".");
  return expandIpv6(ip).replaceAll(":", "").split("").reverse().join(".");
}

export function ptrName(ip: string): string {
  return `${reverseName(ip)}.${ip.includes(":") ? "ip6.arpa" : "in-addr.arpa"}`;
}

function expandIpv6(ip: string): string {
  const [head = "", tail = ""] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return groups.map((g) => g.padStart(4, "0").toLowerCase()).join(":");
}

/**
 * The blocklist's verdict from dig's status and A answers. 127.0.0.x is a listing; the
 * 127.255.255.x range is the list refusing the query (public resolvers, no key): unknown.
 */
export function blocklistStatus(status: string, answers: string[]): BlocklistProbe["status"] {
  if (status === "NXDOMAIN") return "not listed";
  if (status !== "NOERROR") return "unknown";
  const real = answers.filter((a) => a.startsWith("127.") && !a.startsWith("127.255.255."));
  if (real.length) return "listed";
  return answers.length ? "unknown" : "not listed";
}

/** Postfix writes `$name` and `${name}` unexpanded in `postconf name`: expand the ones it read. */
export function expandPostconf(value: string, values: Record<string, string>, depth = 0): string {
  if (depth > 5) return value;
  return value.replace(/\$\{?([a-z0-9_]+)\}?/g, (m, name: string) => {
    const v = values[name];
    return v === undefined ? m : expandPostconf(v, values, depth + 1);
  });
}

/**
 * Where mail leaves from: the per-relay config first, else smtp_bind_address(6). Postfix
 * logs no source address, so with neither the addresses are unknown, and triage says so.
 */
export function outboundIps(configured: string[] | undefined, values: Record<string, string>): OutboundIps {
  if (configured?.length) return { ips: configured, source: "config (outboundIps)" };
  const bound = ["smtp_bind_address", "smtp_bind_address6"]
    .map((k) => ({ k, v: (values[k] ?? "").trim() }))
    .filter((x) => isIp(x.v));
  if (bound.length)
    return { ips: bound.map((x) => x.v), source: bound.map((x) => `postconf ${x.k}`).join(", ") };
  return { ips: [], source: "" };
}

/** The HELO name: smtp_helo_name expanded, else myhostname. */
export function heloName(values: Record<string, string>): string {
  const v = expandPostconf(values.smtp_helo_name || "$myhostname", values).replace(/\.$/, "");
  return isHostName(v) ? v.toLowerCase() : "";
}

/** rDNS verdict: PTR names, and the addresses of the first PTR name. */
export function rdnsVerdict(
  ip: string,
  helo: string,
  ptr: { status: string; names: string[] },
  forward: { status: string; addresses: string[] } | null,
): RdnsProbe["status"] {
  if (ptr.status === "NXDOMAIN" || (ptr.status === "NOERROR" && ptr.names.length === 0)) return "missing";
  if (ptr.status !== "NOERROR") return "unknown";
  if (!forward || (forward.status !== "NOERROR" && forward.status !== "NXDOMAIN")) return "unknown";
  if (!forward.addresses.includes(ip)) return "unconfirmed";
  return ptr.names.some((n) => n.toLowerCase() === helo) ? "match" : "mismatch";
}

/** The status card's one line when a relay is listed: nobody requeues into a blocklist. */
export function reputationWarning(relay: string, probes: BlocklistProbe[]): string | null {
  const listed = probes.filter((b) => b.status === "listed");
  if (!listed.length) return null;
  const what = listed.map((b) => `${b.ip} on ${b.zone}`).join(", ");
  return `${relay} is on a blocklist (${what}): do not requeue ALL into the listing; see /mailq triage ${relay} for the delisting step`;
}
