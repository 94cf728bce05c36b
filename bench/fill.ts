/**
 * Fills a lab relay with a realistic stuck queue, fast: real SMTP into the instance's smtpd
 * over several parallel connections with PIPELINING (RFC 2920: the next MAIL/RCPT/DATA group
 * follows the message body without waiting), messages generated on the fly.
 *
 * Mix (per message, by index): 82 % refused.lab.test (connection refused), 6 % throttle.lab.test
 * (451), 4 % dnsfail.lab.test (SERVFAIL), 5 % hold.lab.test (put on hold afterwards), 3 % with
 * 2–3 recipients across those domains. Senders and sizes vary.
 */
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import type { LabRelay } from "../test/lab/lab.js";
import { countFilesUnder, exec, execOk, log } from "./lib.js";

const SENDERS = [
  "app@billing.example.internal",
  "noreply@shop.example.internal",
  "alerts@monitoring.example.internal",
  "newsletter@news.lab.test",
  "",
  "jobs@hr.example.internal",
  "mailer-daemon@relay.example.internal",
];

export interface Planned {
  from: string;
  to: string[];
  hold: boolean;
  bodyLines: number;
  subject?: string;
}

/** The i-th message of the fill; deterministic. */
export function planMessage(i: number): Planned {
  const k = (i * 7919) % 100;
  const from = SENDERS[i % SENDERS.length] ?? "";
  const bodyLines = 5 + ((i * 31) % 60); // ≈ 0.4–4.5 kB
  const user = `u${(i * 104729) % 250_000}`;
  if (k < 82) return { from, to: [`${user}@refused.lab.test`], hold: false, bodyLines };
  if (k < 88) return { from, to: [`${user}@throttle.lab.test`], hold: false, bodyLines };
  if (k < 92) return { from, to: [`${user}@dnsfail.lab.test`], hold: false, bodyLines };
  if (k < 97) return { from, to: [`${user}@hold.lab.test`], hold: true, bodyLines };
  const to = [`${user}@refused.lab.test`, `${user}@throttle.lab.test`];
  if (k === 99) to.push(`${user}@dnsfail.lab.test`);
  return { from, to, hold: false, bodyLines };
}

const LINE = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.";

function render(i: number, m: Planned): string {
  const head = [
    `From: ${m.from || "MAILER-DAEMON@relay.example.internal"}`,
    `To: ${m.to.join(", ")}`,
    `Subject: ${m.subject ?? `bench message ${i}`}`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <bench.${i}.${process.pid}@lab.test>`,
  ];
  const body: string[] = [];
  for (let l = 0; l < m.bodyLines; l++) body.push(LINE);
  return `${head.join("\r\n")}\r\n\r\n${body.join("\r\n")}\r\n.\r\n`;
}

/** Reads SMTP replies in order from a socket. */
class Replies {
  private buf = "";
  private lines: string[] = [];
  private parts: string[] = [];
  private ready: { code: number; text: string }[] = [];
  private waiter: ((r: { code: number; text: string } | Error) => void) | null = null;
  private failure: Error | null = null;

  constructor(sock: Socket) {
    sock.setEncoding("latin1");
    sock.on("data", (c: string) => {
      this.buf += c;
      let nl = this.buf.indexOf("\n");
      while (nl >= 0) {
        this.lines.push(this.buf.slice(0, nl).replace(/\r$/, ""));
        this.buf = this.buf.slice(nl + 1);
        nl = this.buf.indexOf("\n");
      }
      for (const line of this.lines.splice(0)) {
        this.parts.push(line.slice(4));
        if (line[3] !== "-") {
          this.ready.push({ code: Number(line.slice(0, 3)), text: this.parts.join("\n") });
          this.parts = [];
        }
      }
      this.wake();
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      this.wake();
    };
    sock.on("error", fail);
    sock.on("close", () => fail(new Error("SMTP connection closed")));
  }

  private wake(): void {
    const w = this.waiter;
    if (!w) return;
    const r = this.ready.shift();
    if (r) {
      this.waiter = null;
      w(r);
    } else if (this.failure) {
      this.waiter = null;
      w(this.failure);
    }
  }

  next(expectClass: number, what: string): Promise<{ code: number; text: string }> {
    return new Promise((resolve, reject) => {
      this.waiter = (r) => {
        if (r instanceof Error) reject(r);
        else if (Math.floor(r.code / 100) !== expectClass)
          reject(new Error(`SMTP ${what}: got ${r.code} ${r.text}`));
        else resolve(r);
      };
      this.wake();
    });
  }
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port }, () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

export interface FillResult {
  sent: number;
  heldIds: string[];
  seconds: number;
}

/** Sends messages [from, to) of the plan (default: the bench's mix) over `connections` pipelined sessions. */
export async function sendRange(
  relay: LabRelay,
  from: number,
  to: number,
  connections = 24,
  plan: (i: number) => Planned = planMessage,
): Promise<FillResult> {
  const started = Date.now();
  const heldIds: string[] = [];
  let next = from;
  let sent = 0;
  const worker = async () => {
    if (next >= to) return;
    const sock = await open(relay.smtpPort);
    sock.setNoDelay(true);
    const rep = new Replies(sock);
    await rep.next(2, "greeting");
    sock.write("EHLO bench.lab.test\r\n");
    await rep.next(2, "EHLO");
    let pending: Planned | null = null;
    for (let i = next++; i < to; i = next++) {
      const m = plan(i);
      const cmds = [`MAIL FROM:<${m.from}>`, ...m.to.map((r) => `RCPT TO:<${r}>`), "DATA"];
      sock.write(`${cmds.join("\r\n")}\r\n`);
      if (pending) {
        const r = await rep.next(2, "end of DATA");
        if (pending.hold) heldIds.push(/queued as ([0-9A-Za-z]+)/.exec(r.text)?.[1] ?? "");
        sent++;
      }
      for (let c = 0; c < cmds.length - 1; c++) await rep.next(2, cmds[c] ?? "");
      await rep.next(3, "DATA");
      sock.write(render(i, m));
      pending = m;
    }
    if (pending) {
      const r = await rep.next(2, "end of DATA");
      if (pending.hold) heldIds.push(/queued as ([0-9A-Za-z]+)/.exec(r.text)?.[1] ?? "");
      sent++;
    }
    sock.end("QUIT\r\n");
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return { sent, heldIds: heldIds.filter(Boolean), seconds: (Date.now() - started) / 1000 };
}

function env(relay: LabRelay): NodeJS.ProcessEnv {
  return { ...process.env, MAIL_CONFIG: relay.configDir };
}

/**
 * Bench-only settings on the bench's own instance: no inflow throttling while filling, more
 * smtpd/cleanup processes, and no retry wave during the measurements (backoff > the bench).
 */
export async function tuneForFill(relay: LabRelay): Promise<string[]> {
  const settings = [
    "in_flow_delay = 0",
    "default_process_limit = 200",
    "minimal_backoff_time = 3h",
    "maximal_backoff_time = 3h",
    "queue_run_delay = 3h",
    "qmgr_message_active_limit = 40000",
  ];
  await execOk(["/usr/sbin/postconf", "-c", relay.configDir, "-e", ...settings], { env: env(relay) });
  await execOk(["/usr/sbin/postfix", "-c", relay.configDir, "reload"], { env: env(relay) });
  return settings;
}

/** Messages per queue directory, counted on disk. */
export async function queueCounts(relay: LabRelay): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const q of ["maildrop", "incoming", "active", "deferred", "hold"])
    out[q] = await countFilesUnder(join(relay.queueDirectory, q));
  return out;
}

/** Waits until everything sent sits in deferred or hold (qmgr has tried each once). */
export async function waitSettled(
  relay: LabRelay,
  total: number,
  timeoutMs = 30 * 60_000,
  report: (msg: string) => void = log,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const c = await queueCounts(relay);
    const inFlight = (c.maildrop ?? 0) + (c.incoming ?? 0) + (c.active ?? 0);
    const settled = (c.deferred ?? 0) + (c.hold ?? 0);
    const now = JSON.stringify(c);
    if (now !== last) report(`queue ${now}`);
    last = now;
    if (inFlight === 0 && settled >= total) return;
    if (Date.now() > deadline) throw new Error(`queue did not settle: ${now}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

export async function holdIds(relay: LabRelay, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const r = await exec(["/usr/sbin/postsuper", "-h", "-"], { env: env(relay), stdin: `${ids.join("\n")}\n` });
  if (r.code !== 0) throw new Error(`postsuper -h: ${r.stderr}`);
}
