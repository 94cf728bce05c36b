import { MailqError } from "../errors.js";
import { sha256Fingerprint } from "./host-key.js";

const TARGET_RE = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+|[0-9A-Fa-f:]+:[0-9A-Fa-f:]*))(?::(\d{1,5}))?$/;

/** `HOST`, `HOST:PORT`, `[V6]:PORT`; undefined when it is none of these. */
export function parseTarget(s: string): { host: string; port: number } | undefined {
  // A bare IPv6 address has several colons and no port.
  if ((s.match(/:/g) ?? []).length > 1 && !s.startsWith("["))
    return /^[0-9A-Fa-f:.]+$/.test(s) ? { host: s, port: 22 } : undefined;
  const m = TARGET_RE.exec(s);
  const host = m?.[1] ?? m?.[2];
  const port = m?.[3] === undefined ? 22 : Number(m[3]);
  if (!host || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/**
 * The host key fingerprint the relay presents, as the bot will compare it: the same client and
 * key negotiation as a real connection, stopped before any login.
 */
export async function presentedFingerprint(host: string, port: number, timeoutMs: number): Promise<string> {
  const { NodeSSH } = await import("node-ssh");
  const ssh = new NodeSSH();
  let seen: string | undefined;
  try {
    await ssh.connect({
      host,
      port,
      username: "mailq-bot-fingerprint",
      readyTimeout: timeoutMs,
      algorithms: { compress: ["none"] },
      hostVerifier: (key: Buffer) => {
        seen = sha256Fingerprint(key);
        return false;
      },
    });
  } catch (e) {
    if (seen) return seen;
    throw new MailqError("RELAY_UNREACHABLE", `${host}:${port}: no SSH host key: ${(e as Error).message}`, {
      hint: "Check host and port, and that sshd runs there",
    });
  } finally {
    ssh.dispose();
  }
  if (seen) return seen;
  throw new MailqError("RELAY_UNREACHABLE", `${host}:${port}: the server presented no host key`);
}
