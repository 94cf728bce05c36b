/** Guards for envelope addresses and domains before they become selectors or argv words. */

// RFC 5321 allows $ & ` | in a local part; a selector does not: they are shell metacharacters.
const ADDRESS_RE = /^[A-Za-z0-9.!#%'*+/=?^_{}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const DOMAIN_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An address that may travel in an argv: RFC 5321's common form, no shell metacharacters. */
export const isPlainAddress = (a: string): boolean => ADDRESS_RE.test(a);
export const isDomainName = (d: string): boolean => DOMAIN_RE.test(d);
