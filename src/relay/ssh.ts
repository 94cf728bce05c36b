import { readFile } from "node:fs/promises";
import { type Socket, connect as tcpConnect } from "node:net";
import { NodeSSH } from "node-ssh";
import type { ClientChannel } from "ssh2";
import type { SshRelayConfig } from "../config.js";
import { MailqError } from "../errors.js";
import { sha256Fingerprint } from "./host-key.js";
import {
  CappedText,
  type CommandRunner,
  type RunOptions,
  type RunResult,
  shellQuote,
  withCommandPath,
} from "./runner.js";
import { Slots } from "./slots.js";

/** The relay's sshd would not open another session now; the cause is what to report if it lasts. */
class SessionRefused extends Error {
  constructor(override readonly cause: MailqError) {
    super(cause.message);
  }
}
const CHANNEL_RETRY_MS = 100;

function where(r: SshRelayConfig): string {
  return `${r.name} (${r.username}@${r.host}:${r.port})`;
}

/** Turns ssh2's errors into ones that say what to do. */
export function connectError(r: SshRelayConfig, e: unknown, hostKeySeen: string | undefined): MailqError {
  const err = e as NodeJS.ErrnoException & { level?: string };
  if (hostKeySeen !== undefined && hostKeySeen !== r.hostKeyFingerprint) {
    return new MailqError(
      "RELAY_HOST_KEY_MISMATCH",
      `${where(r)}: host key mismatch: expected ${r.hostKeyFingerprint}, the relay presented ${hostKeySeen}; connection refused`,
      {
        hint: "Verify the relay's key on the console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) before updating hostKeyFingerprint",
      },
    );
  }
  if (err.level === "client-authentication") {
    return new MailqError("RELAY_AUTH_FAILED", `${where(r)}: the relay refused the bot's SSH key`, {
      hint: `Add the public key of ${r.privateKeyPath} to ~${r.username}/.ssh/authorized_keys on the relay`,
    });
  }
  if (err.level === "client-timeout" || /timed out/i.test(err.message ?? "")) {
    return new MailqError("RELAY_TIMEOUT", `${where(r)}: no SSH answer in time`, {
      hint: "Check that the host is up and that port is open from the bot",
    });
  }
  const what =
    err.code === "ECONNREFUSED"
      ? "connection refused"
      : err.code === "ENOTFOUND"
        ? "host name not found"
        : err.message;
  return new MailqError("RELAY_UNREACHABLE", `${where(r)}: cannot connect over SSH: ${what}`, {
    hint: "Check that sshd runs there and that host and port in the configuration are right",
  });
}

/** The TCP connection to the relay's sshd is up; its errors (refused, unknown host) as ssh2 gives them. */
function tcpReady(sock: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.once("connect", () => {
      sock.off("error", reject);
      resolve();
    });
    sock.once("error", reject);
  });
}

/** One pooled SSH connection to one relay; commands run as parallel channels on it. */
export class SshRunner implements CommandRunner {
  readonly relay: string;
  private readonly ssh = new NodeSSH();
  private readonly slots = new Slots(8);
  /** Our own TCP socket, handed to ssh2: what crossed the wire is read from it, not from ssh2's privates. */
  private sock: Socket | undefined;

  private constructor(private readonly cfg: SshRelayConfig) {
    this.relay = cfg.name;
  }

  /** `stop` (the pool closing) ends a connect still under way at once rather than at its timeout. */
  static async connect(
    cfg: SshRelayConfig,
    timeoutMs: number,
    compression = true,
    stop?: AbortSignal,
  ): Promise<SshRunner> {
    let privateKey: string;
    try {
      privateKey = await readFile(cfg.privateKeyPath, "utf8");
    } catch (e) {
      throw new MailqError(
        "CONFIG_INVALID",
        `${cfg.name}: cannot read privateKeyPath ${cfg.privateKeyPath}: ${(e as Error).message}`,
        {
          hint: "Point privateKeyPath at the bot's private key, readable by the bot's user",
        },
      );
    }
    const runner = new SshRunner(cfg);
    let seen: string | undefined;
    const sock = tcpConnect({ host: cfg.host, port: cfg.port });
    runner.sock = sock;
    const cut = (why: string) => {
      runner.ssh.connection?.end();
      sock.destroy(new Error(why));
    };
    const deadline = setTimeout(() => cut("connection timed out"), timeoutMs + 100);
    const abort = () => cut("the bot is stopping");
    if (stop?.aborted) abort();
    else stop?.addEventListener("abort", abort, { once: true });
    try {
      await tcpReady(sock);
      await runner.ssh.connect({
        host: cfg.host,
        port: cfg.port,
        sock: runner.sock,
        username: cfg.username,
        privateKey,
        readyTimeout: timeoutMs,
        keepaliveInterval: 15_000,
        // Preferred order: the client's first choice the server also offers wins.
        algorithms: { compress: compression ? ["zlib@openssh.com", "zlib", "none"] : ["none"] },
        // No trust on first use: the configured fingerprint is the only one accepted.
        hostVerifier: (key: Buffer) => {
          seen = sha256Fingerprint(key);
          return seen === cfg.hostKeyFingerprint;
        },
      });
    } catch (e) {
      runner.ssh.dispose();
      runner.sock?.destroy();
      if (stop?.aborted)
        throw new MailqError("RELAY_UNREACHABLE", `${where(cfg)}: connect abandoned: mailq-bot is stopping`, {
          hint: "Ask again once the bot is back (mailq-bot healthcheck)",
        });
      throw connectError(cfg, e, seen);
    } finally {
      clearTimeout(deadline);
      stop?.removeEventListener("abort", abort);
    }
    // A reset after connecting must not crash the bot: the pool is told the connection is gone and reconnects.
    runner.ssh.connection?.on("error", () => {});
    runner.ssh.connection?.once("close", () => {
      runner.closed = true;
      for (const listener of runner.closedListeners.splice(0)) listener();
    });
    return runner;
  }

  private readonly closedListeners: (() => void)[] = [];
  private closed = false;

  onClosed(listener: () => void): void {
    if (this.closed) listener();
    else this.closedListeners.push(listener);
  }

  /** Bytes received on the TCP connection so far (after compression, when on): what crossed the wire. */
  get bytesOnWire(): number {
    return this.sock?.bytesRead ?? 0;
  }

  async run(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
    const release = await this.slots.take();
    const deadline = Date.now() + opts.timeoutMs;
    try {
      for (;;) {
        try {
          return await this.exec(shellQuote(withCommandPath(argv)), {
            ...opts,
            timeoutMs: deadline - Date.now(),
          });
        } catch (e) {
          // sshd refuses a session past its MaxSessions (10 by default), and it still counts
          // channels we have just closed until it has processed our close: that is backpressure,
          // not a failure. Open again shortly, within the command's own deadline.
          if (!(e instanceof SessionRefused)) throw e;
          if (deadline - Date.now() <= CHANNEL_RETRY_MS) throw e.cause;
          await new Promise((r) => setTimeout(r, CHANNEL_RETRY_MS));
        }
      }
    } finally {
      release();
    }
  }

  private exec(command: string, opts: RunOptions): Promise<RunResult> {
    const conn = this.ssh.connection;
    if (!conn)
      return Promise.reject(
        new MailqError("RELAY_UNREACHABLE", `${where(this.cfg)}: the SSH connection is closed`),
      );
    const max = opts.maxOutputBytes ?? 4 << 20;
    return new Promise((resolve, reject) => {
      conn.exec(command, (err: Error | undefined, channel: ClientChannel) => {
        if (err) {
          const failed = new MailqError(
            "PROBE_FAILED",
            `${where(this.cfg)}: could not start a command: ${err.message}`,
          );
          reject(/Channel open failure/i.test(err.message) ? new SessionRefused(failed) : failed);
          return;
        }
        const out = new CappedText(max);
        const errText = new CappedText(max);
        let timedOut = false;
        let done = false;
        let code: number | null = null;
        const finish = () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          resolve({ code, stdout: out.toString(), stderr: errText.toString(), timedOut });
        };
        // The deadline is the caller's: answer when it passes, whether or not the far end closes.
        const timer = setTimeout(() => {
          timedOut = true;
          try {
            channel.signal("KILL");
            channel.close();
          } catch {}
          finish();
        }, opts.timeoutMs);
        channel.on("data", (c: Buffer) => {
          if (done) return;
          if (opts.onStdout) opts.onStdout(c);
          else out.push(c);
        });
        channel.stderr.on("data", (c: Buffer) => errText.push(c));
        channel.on("exit", (c: number | null) => {
          code = c;
        });
        channel.on("close", finish);
        channel.end(opts.stdin ?? "");
      });
    });
  }

  async close(): Promise<void> {
    this.ssh.dispose();
    this.sock?.destroy();
  }
}
