/**
 * A channel never sees a mailbox: addresses become their domain with the local part cut to
 * its first character (`a…@corp.example`). Only `inspect`, answered to one authorised person,
 * shows envelopes whole.
 */

// Local part as RFC 5322's atext plus dots; the domain as labels. Slack's own <@U…> mentions
// have no local part, so they never match. A local part starts where a run of atext starts (the
// lookbehind): without it, a long run with no "@" (a log line, a hex blob) is rescanned from
// every position, quadratic in its length.
const ADDRESS =
  /(?<![A-Za-z0-9.!#$%&'*+/=?^_`{|}~-])[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)/g;

/** `alice@corp.example` → `a…@corp.example`; the null sender stays `<>`. */
export function maskAddress(address: string): string {
  if (address === "" || address === "<>") return "<>";
  const at = address.lastIndexOf("@");
  if (at < 0) return `${address.slice(0, 1)}…`;
  return `${address.slice(0, 1)}…@${address.slice(at + 1).toLowerCase()}`;
}

/** The domain of an address, or `<>` for the null sender. */
export function addressDomainOf(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? "<>" : address.slice(at + 1).toLowerCase();
}

/**
 * Every address in a text masked (log lines, reasons, selectors, error texts). `user@192.0.2.1`
 * is left alone: that is how SSH errors name the relay login, not a mailbox.
 */
export function redactAddresses(text: string): string {
  return text.replace(ADDRESS, (whole, domain: string) =>
    /^[\d.]+$/.test(domain) ? whole : `${whole.slice(0, 1)}…@${domain.toLowerCase()}`,
  );
}

/** Every string inside a value (a card's blocks, a message body) with its addresses masked. */
export function redactDeep<T>(value: T): T {
  if (typeof value === "string") return redactAddresses(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}
