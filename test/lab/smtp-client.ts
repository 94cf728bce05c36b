/** A deliberately tiny SMTP client: enough to inject test mail into a lab relay's smtpd. */
import { connect, type Socket } from "node:net";

export interface OutgoingMessage {
  from: string;
  to: string[];
  subject?: string;
  body?: string;
  headers?: Record<string, string>;
}

interface Reply {
  code: number;
  text: string;
}

class SmtpSession {
  private buf = "";
  private lines: string[] = [];
  private waiting: ((line: string | Error) => void) | null = null;
  private failure: Error | null = null;

  private constructor(private readonly sock: Socket) {
    sock.setEncoding("latin1");
    sock.on("data", (chunk: string) => {
      this.buf += chunk;
      for (let i = this.buf.indexOf("\n"); i >= 0; i = this.buf.indexOf("\n")) {
        this.push(this.buf.slice(0, i).replace(/\r$/, ""));
        this.buf = this.buf.slice(i + 1);
      }
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      const w = this.waiting;
      this.waiting = null;
      w?.(this.failure);
    };
    sock.on("error", fail);
    sock.on("close", () => fail(new Error("SMTP connection closed")));
    sock.setTimeout(30_000, () => sock.destroy(new Error("SMTP timeout")));
  }

  static open(port: number): Promise<SmtpSession> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: "127.0.0.1", port }, () => {
        sock.off("error", reject);
        resolve(new SmtpSession(sock));
      });
      sock.once("error", reject);
    });
  }

  private push(line: string): void {
    const w = this.waiting;
    if (w) {
      this.waiting = null;
      w(line);
    } else this.lines.push(line);
  }

  private nextLine(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = (l) => (typeof l === "string" ? resolve(l) : reject(l));
    });
  }

  async reply(): Promise<Reply> {
    const text: string[] = [];
    for (;;) {
      const line = await this.nextLine();
      text.push(line.slice(4));
      if (line[3] !== "-") return { code: Number(line.slice(0, 3)), text: text.join("\n") };
    }
  }

  async command(cmd: string, expect: number): Promise<Reply> {
    this.sock.write(`${cmd}\r\n`);
    return this.expect(cmd, expect);
  }

  async expect(what: string, expect: number): Promise<Reply> {
    const r = await this.reply();
    if (Math.floor(r.code / 100) !== Math.floor(expect / 100))
      throw new Error(`SMTP ${what.split(":")[0]}: expected ${expect}, got ${r.code} ${r.text}`);
    return r;
  }

  write(data: string): void {
    this.sock.write(data);
  }

  close(): void {
    this.sock.end("QUIT\r\n");
    this.sock.destroySoon();
  }
}

let messageCounter = 0;

function render(msg: OutgoingMessage): string {
  const id = `${Date.now().toString(36)}.${process.pid}.${++messageCounter}@lab.test`;
  const headers: Record<string, string> = {
    From: msg.from,
    To: msg.to.join(", "),
    Subject: msg.subject ?? "lab message",
    Date: new Date().toUTCString().replace("GMT", "+0000"),
    "Message-ID": `<${id}>`,
    ...msg.headers,
  };
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  const body = (msg.body ?? "This message was injected by the mailq-bot relay lab.").split(/\r?\n/);
  // Dot-stuffing: a body line starting with "." gets another one.
  return [...head, "", ...body.map((l) => (l.startsWith(".") ? `.${l}` : l))].join("\r\n");
}

async function sendOn(s: SmtpSession, msg: OutgoingMessage): Promise<string> {
  await s.command(`MAIL FROM:<${msg.from}>`, 250);
  for (const rcpt of msg.to) await s.command(`RCPT TO:<${rcpt}>`, 250);
  await s.command("DATA", 354);
  s.write(`${render(msg)}\r\n.\r\n`);
  const r = await s.expect("DATA (end)", 250);
  const m = /queued as ([0-9A-Za-z]+)/.exec(r.text);
  if (!m?.[1]) throw new Error(`SMTP: no queue id in "${r.text}"`);
  return m[1];
}

/**
 * Sends every message over up to `connections` parallel SMTP sessions to 127.0.0.1:port.
 * Returns the queue IDs in the order of `messages`.
 */
export async function sendMessages(
  port: number,
  messages: OutgoingMessage[],
  connections = 8,
): Promise<string[]> {
  const ids: string[] = new Array(messages.length);
  let next = 0;
  const worker = async () => {
    if (next >= messages.length) return;
    const s = await SmtpSession.open(port);
    try {
      await s.expect("greeting", 220);
      await s.command("EHLO client.lab.test", 250);
      for (let i = next++; i < messages.length; i = next++) {
        const msg = messages[i];
        if (msg) ids[i] = await sendOn(s, msg);
      }
    } finally {
      s.close();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(connections, messages.length)) }, worker));
  return ids;
}
