/**
 * Guards for the names and addresses that reach an argv (dig, nc, sendmail) and the parser of
 * Postfix's `host[ip]:port` next hops. Pure: analysis plans with them and the relay checks
 * again with them right before running anything.
 */

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^(?=.*:)[0-9A-Fa-f:.]{2,45}$/;
/** A DNS name as dig and nc may get it: labels of letters, digits and inner hyphens; never a leading "-". */
export const HOST_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
export const isIp = (s: string) => IPV4.test(s) || (IPV6.test(s) && !s.includes(":::"));
/** A host name, not an address: all-digit names are refused. */
export const isHostName = (s: string) => HOST_RE.test(s) && !/^[\d.]+$/.test(s);
/** Any DNS name dig may look up, reverse and blocklist names (all-digit first labels) included. */
export const isDnsName = (s: string) => HOST_RE.test(s);

/** `host[ip]:port`, `host[ip]`, `[ip]:port` (as in `relay=` and in reasons) → the address and port. */
export function parseNextHop(s: string): { host: string; port: number | null } | null {
  const m = /^([^\s[\]]*)\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s.trim());
  if (!m) return null;
  // Postfix writes the address it used in the brackets; anything else is not a next hop.
  const host = (m[2] ?? "").replace(/^ipv6:/i, "");
  if (!isIp(host)) return null;
  const port = m[3] === undefined ? null : Number(m[3]);
  if (port !== null && (port < 1 || port > 65535)) return null;
  return { host, port };
}
