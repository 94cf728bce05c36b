/**
 * A realistic Postfix mail log, generated: a day of RFC 3164 lines from one relay — smtpd
 * connect/client/disconnect, cleanup message-id, qmgr from=/removed, smtp deliveries sent,
 * deferred (varied real-world reasons, many destinations and recipients) and bounced, and
 * error-service "delivery temporarily suspended" retries. Deterministic (seeded).
 *
 *   npx tsx bench/maillog.ts OUT [LINES]
 */
import { createWriteStream } from "node:fs";
import { pathToFileURL } from "node:url";

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const HOST = "mx-out1";

function stamp(ms: number): string {
  const d = new Date(ms);
  const day = String(d.getUTCDate()).padStart(2, " ");
  const hh = String(d.getUTCHours()).padStart(2, "0");
  const mm = String(d.getUTCMinutes()).padStart(2, "0");
  const ss = String(d.getUTCSeconds()).padStart(2, "0");
  return `${MONTHS[d.getUTCMonth()]} ${day} ${hh}:${mm}:${ss}`;
}

interface Destination {
  domain: string;
  mx: string;
  ip: string;
  /** what happens to mail for it */
  fate: "ok" | "timeout" | "refused" | "greylist" | "ratelimit" | "mailbox-full" | "dns" | "tls" | "lost";
}

/** The deferral reason for a destination; per-message detail varies (address, trace tokens). */
function reasonFor(d: Destination, rcpt: string, rnd: () => number): string {
  const host = `${d.mx}[${d.ip}]`;
  switch (d.fate) {
    case "timeout":
      return `connect to ${host}:25: Connection timed out`;
    case "refused":
      return `connect to ${host}:25: Connection refused`;
    case "greylist":
      return `host ${host} said: 451 4.7.1 <${rcpt}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/${d.domain}.html (in reply to RCPT TO command)`;
    case "ratelimit":
      return `host ${host} said: 421-4.7.28 [${d.ip}] Our system has detected an unusual rate of unsolicited mail originating from your IP address. ${Math.floor(rnd() * 1e9).toString(36)}abc.${Math.floor(rnd() * 999)} - gsmtp (in reply to end of DATA command)`;
    case "mailbox-full":
      return `host ${host} said: 452 4.2.2 The email account that you tried to reach is over quota. <${rcpt}> (in reply to RCPT TO command)`;
    case "dns":
      return `Host or domain name not found. Name service error for name=${d.domain} type=MX: Host not found, try again`;
    case "tls":
      return `TLS is required, but was not offered by host ${host}`;
    case "lost":
      return `lost connection with ${host} while receiving the initial server greeting`;
    default:
      return "";
  }
}

function destinations(rnd: () => number): Destination[] {
  const out: Destination[] = [];
  const fates: [Destination["fate"], number][] = [
    ["ok", 300],
    ["timeout", 40],
    ["refused", 25],
    ["greylist", 20],
    ["ratelimit", 3],
    ["mailbox-full", 12],
    ["dns", 15],
    ["tls", 5],
    ["lost", 8],
  ];
  let n = 0;
  for (const [fate, count] of fates)
    for (let i = 0; i < count; i++, n++) {
      const domain = fate === "ratelimit" ? `gmail${i ? i : ""}.example.com` : `d${n}-${fate}.example.net`;
      out.push({
        domain,
        mx: fate === "ratelimit" ? "gmail-smtp-in.l.google.com" : `mx${1 + (n % 3)}.${domain}`,
        ip: `203.0.${Math.floor(n / 250)}.${1 + (n % 250)}`,
        fate,
      });
    }
  // Skew: a few destinations carry most of the mail, as in real traffic.
  return out.sort(() => rnd() - 0.5);
}

/** Inserts into a list kept ordered by `at` (binary search). */
function insert<T extends { at: number }>(list: T[], x: T): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as T).at <= x.at) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, x);
}

/** Yields log lines, `total` of them, spread over 24 hours ending at endMs. */
export function* maillogLines(total: number, endMs: number, seed = 42): Generator<string> {
  const rnd = mulberry32(seed);
  const dests = destinations(rnd);
  const startMs = endMs - 86_400_000;
  const pick = () => dests[Math.floor(dests.length * rnd() ** 2)] as Destination;
  let emitted = 0;
  let qn = 0x1a2b3c;
  // Messages that were deferred and get retried later (by the error service when suspended).
  const retries: { qid: string; rcpt: string; dest: Destination; at: number }[] = [];
  const pid = (base: number) => base + Math.floor(rnd() * 4000);
  for (let msgNo = 0; emitted < total; msgNo++) {
    const t = startMs + Math.floor(((emitted + 1) / total) * 86_400_000);
    const s = stamp(t);
    const qid = (qn++).toString(16).toUpperCase().padStart(10, "0");
    const client = `client${msgNo % 97}.example.org[198.51.100.${1 + (msgNo % 250)}]`;
    const spid = pid(1000);
    const lines: string[] = [];
    const nrcpt = rnd() < 0.85 ? 1 : 2 + Math.floor(rnd() * 4);
    const size = 800 + Math.floor(rnd() * 60_000);
    lines.push(`${s} ${HOST} postfix/smtpd[${spid}]: connect from ${client}`);
    lines.push(`${s} ${HOST} postfix/smtpd[${spid}]: ${qid}: client=${client}`);
    lines.push(
      `${s} ${HOST} postfix/cleanup[${pid(6000)}]: ${qid}: message-id=<${msgNo}.${qid}@app.example.org>`,
    );
    lines.push(
      `${s} ${HOST} postfix/qmgr[812]: ${qid}: from=<sender${msgNo % 311}@app.example.org>, size=${size}, nrcpt=${nrcpt} (queue active)`,
    );
    lines.push(
      `${s} ${HOST} postfix/smtpd[${spid}]: disconnect from ${client} ehlo=1 mail=1 rcpt=${nrcpt} data=1 quit=1 commands=5`,
    );
    let deferredAny = false;
    for (let r = 0; r < nrcpt; r++) {
      const d = pick();
      const rcpt = `user${Math.floor(rnd() * 2_000_000)}@${d.domain}`;
      const dpid = pid(9000);
      const delays = `delays=0.0${Math.floor(rnd() * 9)}/0.01/${(rnd() * 3).toFixed(2)}/${(rnd() * 0.5).toFixed(2)}`;
      if (d.fate === "ok") {
        const bounce = rnd() < 0.01;
        lines.push(
          bounce
            ? `${s} ${HOST} postfix/smtp[${dpid}]: ${qid}: to=<${rcpt}>, relay=${d.mx}[${d.ip}]:25, delay=1.2, ${delays}, dsn=5.1.1, status=bounced (host ${d.mx}[${d.ip}] said: 550 5.1.1 <${rcpt}>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))`
            : `${s} ${HOST} postfix/smtp[${dpid}]: ${qid}: to=<${rcpt}>, relay=${d.mx}[${d.ip}]:25, delay=0.9, ${delays}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ${Math.floor(
                rnd() * 1e12,
              )
                .toString(16)
                .toUpperCase()})`,
        );
      } else {
        const relay = d.fate === "dns" ? "none" : `${d.mx}[${d.ip}]:25`;
        const dsn = d.fate === "mailbox-full" ? "4.2.2" : d.fate === "ratelimit" ? "4.7.28" : "4.4.1";
        lines.push(
          `${s} ${HOST} postfix/smtp[${dpid}]: ${qid}: to=<${rcpt}>, relay=${relay}, delay=30, ${delays}, dsn=${dsn}, status=deferred (${reasonFor(d, rcpt, rnd)})`,
        );
        deferredAny = true;
        insert(retries, { qid, rcpt, dest: d, at: t + 300_000 + Math.floor(rnd() * 3_600_000) });
      }
    }
    if (!deferredAny) lines.push(`${s} ${HOST} postfix/qmgr[812]: ${qid}: removed`);
    // Retries that are due: either another smtp attempt or "delivery temporarily suspended" from error.
    while (retries.length > 0 && (retries[0]?.at ?? Infinity) <= t) {
      const x = retries.shift();
      if (!x || rnd() < 0.25) continue;
      const r = reasonFor(x.dest, x.rcpt, rnd);
      lines.push(
        rnd() < 0.7
          ? `${s} ${HOST} postfix/error[${pid(20000)}]: ${x.qid}: to=<${x.rcpt}>, relay=none, delay=${Math.floor((t - x.at) / 1000) + 300}, delays=300/0.01/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: ${r})`
          : `${s} ${HOST} postfix/smtp[${pid(9000)}]: ${x.qid}: to=<${x.rcpt}>, relay=none, delay=${Math.floor((t - x.at) / 1000) + 300}, delays=300/0.01/30/0, dsn=4.4.1, status=deferred (${r})`,
      );
      if (rnd() < 0.5) insert(retries, { ...x, at: t + 600_000 + Math.floor(rnd() * 3_600_000) });
    }
    for (const l of lines) {
      if (emitted >= total) return;
      emitted++;
      yield l;
    }
  }
}

export async function writeMaillog(path: string, total: number, endMs: number): Promise<void> {
  const out = createWriteStream(path);
  let buf: string[] = [];
  const flush = async () => {
    if (!out.write(`${buf.join("\n")}\n`)) await new Promise<void>((r) => out.once("drain", () => r()));
    buf = [];
  };
  for (const line of maillogLines(total, endMs)) {
    buf.push(line);
    if (buf.length >= 5000) await flush();
  }
  if (buf.length) await flush();
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [out, lines] = process.argv.slice(2);
  if (!out) throw new Error("usage: maillog.ts OUT [LINES]");
  await writeMaillog(out, Number(lines ?? 1_000_000), Date.UTC(2026, 10, 21, 23, 59, 59));
}
