import { isHostName, parseNextHop } from "../../parsers/hosts.js";
import type { LogFacts } from "../log-facts.js";
import type { RelaySnapshot } from "../snapshot.js";
import { findingClassOf } from "./classes.js";
import type { DnsProbe } from "./types.js";

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
