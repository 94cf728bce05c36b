import { createWriteStream } from "node:fs";
import { mkdir, open, rename } from "node:fs/promises";
import { join } from "node:path";

/**
 * Where a message goes before it is deleted: <dir>/<relay>/<ticket>/<queueId>-<arrival>.postcat,
 * written to a temporary name, fsynced, then renamed, so a file that exists is whole.
 */
export async function archiveMessage(
  dir: string,
  relay: string,
  ticket: string,
  queueId: string,
  arrival: number,
  write: (sink: (c: Buffer) => void) => Promise<void>,
): Promise<{ path: string; bytes: number }> {
  const folder = join(dir, relay, ticket);
  await mkdir(folder, { recursive: true });
  const path = join(folder, `${queueId}-${arrival}.postcat`);
  const tmp = `${path}.part`;
  const out = createWriteStream(tmp, { flags: "w", mode: 0o600 });
  let bytes = 0;
  await write((c) => {
    bytes += c.length;
    out.write(c);
  });
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  const fh = await open(tmp, "r");
  await fh.sync();
  await fh.close();
  if (bytes === 0) throw new Error(`postcat of ${queueId} gave nothing to archive`);
  await rename(tmp, path);
  return { path, bytes };
}

/** The envelope and a few headers from `postcat` text, for the audit. */
export function summarisePostcat(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n").slice(0, 400)) {
    const env = /^(sender|recipient|message_arrival_time|message_size): *(.*)$/.exec(line);
    if (env && !out[env[1] as string]) out[env[1] as string] = (env[2] ?? "").trim();
    const hdr = /^(Subject|From|To|Message-ID|Date): *(.*)$/i.exec(line);
    if (hdr && !out[(hdr[1] as string).toLowerCase()])
      out[(hdr[1] as string).toLowerCase()] = (hdr[2] ?? "").trim().slice(0, 200);
  }
  return out;
}
