/**
 * The lab's fake network peers, run in small detached processes so that a lab left up
 * by `cli.ts up` keeps working after the CLI exits:
 *  - two deferring SMTP servers in one process: "throttling" answers every RCPT with 451 4.7.1,
 *    "greylisting" with 450 4.2.0;
 *  - a DNS server that answers SERVFAIL to everything (dnsmasq forwards dnsfail.lab.test to it).
 *
 * Usage: node --import tsx servers.ts throttle <lab root>        (one per lab; exits when the root goes)
 *        node --import tsx servers.ts servfail <dnsmasq pid file> (shared; exits when dnsmasq goes)
 * Prints one JSON line once listening ({"port","greylistPort","policyPort"} resp. {"port","blackholePort"}); exits on SIGTERM.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { pathToFileURL } from "node:url";

export const THROTTLE_REPLY = "451 4.7.1 Try again later";
export const GREYLIST_REPLY = "450 4.2.0 Greylisted, please try again later";

/**
 * A receiver that enforces sender authentication and knows few users, the way big providers
 * answer: dmarc…@ gets Gmail's 5.7.26 DMARC refusal naming the sender's domain, every other
 * recipient 550 5.1.1. Postfix bounces both at once: real bounce lines in the relay's log.
 */
export function policyReply(rcptLine: string, mailFrom: string): string {
  const local = /<([^@>]*)@/.exec(rcptLine)?.[1] ?? "";
  const domain = /@([^>]+)>/.exec(mailFrom)?.[1] ?? "the sender";
  if (/^dmarc/i.test(local))
    return `550 5.7.26 Unauthenticated email from ${domain} is not accepted due to domain's DMARC policy. Please contact the administrator of ${domain} domain if this was a legitimate mail.`;
  return "550 5.1.1 The email account that you tried to reach does not exist.";
}

/** SMTP server that greets, accepts EHLO/MAIL and defers (or refuses) every recipient with `rcptReply`. */
export function startDeferringServer(
  rcptReply: string | ((rcptLine: string, mailFrom: string) => string),
): Promise<Server> {
  const server = createServer((sock: Socket) => {
    sock.setEncoding("latin1");
    sock.setTimeout(60_000, () => sock.destroy());
    sock.on("error", () => {});
    const say = (line: string) => {
      if (!sock.destroyed) sock.write(`${line}\r\n`);
    };
    let buf = "";
    let inData = false;
    let mailFrom = "";
    say("220 throttle.lab.test ESMTP lab throttle");
    sock.on("data", (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const line = buf.slice(0, i).replace(/\r$/, "");
        buf = buf.slice(i + 1);
        if (inData) {
          if (line === ".") {
            inData = false;
            say("554 5.5.1 Error: no valid recipients");
          }
          continue;
        }
        const verb = line.split(" ", 1)[0]?.toUpperCase() ?? "";
        switch (verb) {
          case "EHLO":
            say("250-throttle.lab.test");
            say("250-PIPELINING");
            say("250 8BITMIME");
            break;
          case "HELO":
            say("250 throttle.lab.test");
            break;
          case "MAIL":
            mailFrom = line;
            say("250 2.1.0 Ok");
            break;
          case "RCPT":
            say(typeof rcptReply === "string" ? rcptReply : rcptReply(line, mailFrom));
            break;
          case "DATA":
            say("554 5.5.1 Error: no valid recipients");
            break;
          case "BDAT":
            say("554 5.5.1 Error: no valid recipients");
            break;
          case "RSET":
          case "NOOP":
            say("250 2.0.0 Ok");
            break;
          case "QUIT":
            say("221 2.0.0 Bye");
            sock.end();
            return;
          default:
            say("502 5.5.2 Error: command not recognized");
        }
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

/** Builds a SERVFAIL answer echoing the question of `query` (null when it is not a DNS query). */
export function servfailFor(query: Buffer): Buffer | null {
  if (query.length < 12 || (query[2] ?? 0) & 0x80) return null;
  let end = 12;
  if (query.readUInt16BE(4) >= 1) {
    for (let len = query[end] ?? 0; len !== 0; len = query[end] ?? 0) {
      if (len >= 0xc0) return null; // no compression in a question
      end += len + 1;
      if (end >= query.length) return null;
    }
    end += 1 + 4; // root label, QTYPE, QCLASS
    if (end > query.length) return null;
  }
  const reply = Buffer.from(query.subarray(0, end));
  const opcode = (query[2] ?? 0) & 0x78;
  const rd = (query[2] ?? 0) & 0x01;
  reply[2] = 0x80 | opcode | rd; // QR, same opcode, RD copied
  reply[3] = 0x80 | 2; // RA, RCODE=SERVFAIL
  reply.writeUInt16BE(end > 12 ? 1 : 0, 4);
  reply.writeUInt16BE(0, 6);
  reply.writeUInt16BE(0, 8);
  reply.writeUInt16BE(0, 10);
  return reply;
}

/** A resolver that never answers: the zones forwarded to it time out. */
export function startBlackholeServer(): Promise<UdpSocket> {
  const sock = createSocket("udp4");
  sock.on("message", () => {});
  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(0, "127.0.0.1", () => resolve(sock));
  });
}

export function startServfailServer(): Promise<UdpSocket> {
  const sock = createSocket("udp4");
  sock.on("message", (msg, rinfo) => {
    const reply = servfailFor(msg);
    if (reply) sock.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(0, "127.0.0.1", () => resolve(sock));
  });
}

async function main(mode: string, arg: string | undefined): Promise<void> {
  const exit = () => process.exit(0);
  process.on("SIGTERM", exit);
  process.on("SIGINT", exit);
  if (mode === "throttle" && arg) {
    const portOf = (server: Server) => {
      const addr = server.address();
      return typeof addr === "object" && addr ? addr.port : 0;
    };
    const throttle = await startDeferringServer(THROTTLE_REPLY);
    const greylist = await startDeferringServer(GREYLIST_REPLY);
    const policy = await startDeferringServer(policyReply);
    process.stdout.write(
      `${JSON.stringify({ port: portOf(throttle), greylistPort: portOf(greylist), policyPort: portOf(policy) })}\n`,
    );
    // An orphan (its lab root removed without stop()) goes away by itself.
    setInterval(() => {
      if (!existsSync(arg)) exit();
    }, 2000);
  } else if (mode === "servfail" && arg) {
    const sock = await startServfailServer();
    const blackhole = await startBlackholeServer();
    process.stdout.write(
      `${JSON.stringify({ port: sock.address().port, blackholePort: blackhole.address().port })}\n`,
    );
    // Shared by all labs; lives as long as the dnsmasq that forwards to it (pid file arg).
    const started = Date.now();
    setInterval(() => {
      const pid = Number(readFileOr(arg).trim());
      const alive = pid > 1 && existsSync(`/proc/${pid}`);
      if (!alive && Date.now() - started > 15_000) exit();
    }, 2000);
  } else {
    console.error("usage: servers.ts throttle <lab root> | servfail <dnsmasq pid file>");
    process.exit(2);
  }
}

function readFileOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mode = "", arg] = process.argv.slice(2);
  main(mode, arg).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
