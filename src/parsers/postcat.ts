/**
 * `postcat -q ID` output: a queue file as text, in sections
 *   *** ENVELOPE RECORDS deferred/3F1A61A0A1 ***   key: value records (sender, recipient, …)
 *   *** MESSAGE CONTENTS deferred/3F1A61A0A1 ***   the message: headers, a blank line, the body
 *   *** HEADER EXTRACTED deferred/3F1A61A0A1 ***   records Postfix took from the headers
 *   *** MESSAGE FILE END deferred/3F1A61A0A1 ***
 * Only the envelope and the message's own headers are read; the body never is.
 */
export interface PostcatSummary {
  /** "deferred/3F1A61A0A1" → queue and ID, when the section markers name them. */
  queueName: string | undefined;
  queueId: string | undefined;
  sender: string | undefined;
  recipients: string[];
  arrivalTime: string | undefined;
  size: number | undefined;
  /** Selected headers, lower-case names, first occurrence, unfolded, at most 300 characters. */
  headers: Record<string, string>;
}

export const SUMMARY_HEADERS = [
  "from",
  "to",
  "cc",
  "subject",
  "date",
  "message-id",
  "reply-to",
  "return-path",
  "received",
] as const;

const SECTION = /^\*\*\* ([A-Z ]+?)(?: ([a-z]+)(?:\/[0-9A-Za-z])*\/([0-9A-Za-z]+))? \*\*\*$/;
const MAX_RECIPIENTS = 50;

export function parsePostcat(text: string): PostcatSummary {
  const out: PostcatSummary = {
    queueName: undefined,
    queueId: undefined,
    sender: undefined,
    recipients: [],
    arrivalTime: undefined,
    size: undefined,
    headers: {},
  };
  let section = "";
  let inHeaders = false;
  let current: { name: string; value: string } | undefined;
  const flush = () => {
    if (!current) return;
    const name = current.name.toLowerCase();
    if ((SUMMARY_HEADERS as readonly string[]).includes(name) && out.headers[name] === undefined)
      out.headers[name] = current.value.replace(/\s+/g, " ").trim().slice(0, 300);
    current = undefined;
  };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    const s = SECTION.exec(line);
    if (s) {
      flush();
      section = s[1] as string;
      inHeaders = section === "MESSAGE CONTENTS";
      if (s[2] && out.queueName === undefined) {
        out.queueName = s[2];
        out.queueId = s[3];
      }
      continue;
    }
    if (section === "ENVELOPE RECORDS") {
      const m = /^([a-z_]+): ?(.*)$/.exec(line);
      if (!m) continue;
      const [, key, value = ""] = m;
      if (key === "sender" && out.sender === undefined) out.sender = value.trim();
      else if (key === "recipient" && out.recipients.length < MAX_RECIPIENTS)
        out.recipients.push(value.trim());
      else if (key === "message_arrival_time" && out.arrivalTime === undefined)
        out.arrivalTime = value.trim();
      else if (key === "message_size" && out.size === undefined) {
        const n = Number(value.trim().split(/\s+/)[0]);
        if (Number.isFinite(n)) out.size = n;
      }
    } else if (inHeaders) {
      if (line === "") {
        flush();
        inHeaders = false;
      } else if (/^[ \t]/.test(line)) {
        if (current) current.value += ` ${line.trim()}`;
      } else {
        flush();
        const h = /^([!-9;-~]+):(.*)$/.exec(line);
        if (h) current = { name: h[1] as string, value: h[2] as string };
      }
    }
  }
  flush();
  return out;
}

/** Flat key → value, for the audit and for `/mailq inspect`. */
export function postcatFields(p: PostcatSummary): Record<string, string> {
  const f: Record<string, string> = {};
  if (p.queueName) f.queue = p.queueName;
  if (p.sender !== undefined) f.sender = p.sender || "<>";
  if (p.recipients.length) f.recipient = p.recipients.join(", ");
  if (p.arrivalTime) f.arrival = p.arrivalTime;
  if (p.size !== undefined) f.size = String(p.size);
  for (const h of SUMMARY_HEADERS) if (p.headers[h] !== undefined) f[h] = p.headers[h] as string;
  return f;
}
