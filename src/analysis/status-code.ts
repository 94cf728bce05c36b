/**
 * RFC 3463 enhanced status codes: class.subject.detail, the sender's own classification of a
 * failure. Microsoft writes three-digit details (4.7.650); both are accepted.
 */
export interface StatusCode {
  code: string;
  class: 2 | 4 | 5;
  subject: number;
  detail: number;
}

// Not inside an IP address or a longer dotted number (4.2.2.1 is a resolver, 4.16.55.1 a trace).
const CODE_RE = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)/;
// The code a remote server put right after its reply code: "said: 452 4.2.2", "said: 421-4.7.0".
const REPLY_CODE_RE = /\b[245]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)/;

function parse(text: string | undefined): StatusCode | null {
  const m = text === undefined ? null : CODE_RE.exec(text);
  if (!m) return null;
  const cls = Number(m[1]);
  if (cls !== 2 && cls !== 4 && cls !== 5) return null;
  return {
    code: `${m[1]}.${Number(m[2])}.${Number(m[3])}`,
    class: cls,
    subject: Number(m[2]),
    detail: Number(m[3]),
  };
}

/** The reply's own code first, then any code in the text, then Postfix's dsn= field. */
export function statusCodeOf(reason: string, dsn?: string): StatusCode | null {
  return parse(REPLY_CODE_RE.exec(reason)?.[1]) ?? parse(reason) ?? parse(dsn);
}

/** A remote server answered (its words follow), rather than Postfix describing its own failure. */
export function isRemoteReply(reason: string): boolean {
  return /\bsaid:|refused to talk to me:/i.test(reason);
}
