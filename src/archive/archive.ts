import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { QUEUE_ID_RE } from "../parsers/postqueue.js";

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function segment(what: string, v: string): string {
  if (!SAFE_SEGMENT.test(v) || v.includes("..")) throw new Error(`unsafe ${what} for an archive path: ${v}`);
  return v;
}

/** Where one deleted message is kept: <dir>/<relay>/<ticket>/<queueId>-<arrival>.postcat. */
export function archivePath(
  dir: string,
  relay: string,
  ticket: string,
  queueId: string,
  arrival: number,
): string {
  if (!QUEUE_ID_RE.test(queueId)) throw new Error(`unsafe queue ID for an archive path: ${queueId}`);
  return join(
    dir,
    segment("relay", relay),
    segment("ticket", ticket),
    `${queueId}-${Math.trunc(arrival)}.postcat`,
  );
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Archives one message before it is deleted: `write` streams the whole queue file (postcat -q)
 * into a temporary name, which is fsynced, renamed, and the folder fsynced, so a file that
 * exists is whole and survives a crash. Throws (leaving no file) when the copy is empty or
 * lacks postcat's closing marker.
 */
export async function archiveMessage(
  dir: string,
  relay: string,
  ticket: string,
  queueId: string,
  arrival: number,
  write: (sink: (c: Buffer) => void) => Promise<void>,
): Promise<{ path: string; bytes: number; sha256: string }> {
  const path = archivePath(dir, relay, ticket, queueId, arrival);
  const folder = join(path, "..");
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const tmp = `${path}.part`;
  const out = createWriteStream(tmp, { flags: "w", mode: 0o600 });
  const failed = new Promise<never>((_, reject) => out.once("error", reject));
  failed.catch(() => {});
  let bytes = 0;
  let tail = "";
  const hash = createHash("sha256");
  try {
    await Promise.race([
      write((c) => {
        bytes += c.length;
        hash.update(c);
        tail = (tail + c.toString("latin1")).slice(-512);
        out.write(c);
      }),
      failed,
    ]);
    await Promise.race([
      new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve()))),
      failed,
    ]);
    if (bytes === 0) throw new Error(`postcat of ${queueId} gave nothing to archive`);
    // postcat ends a whole queue file with this marker; without it the copy is not whole.
    if (!tail.includes("*** MESSAGE FILE END")) throw new Error(`postcat of ${queueId} ended early`);
    await fsyncPath(tmp, "r");
    await rename(tmp, path);
    await fsyncPath(folder, "r");
  } catch (e) {
    out.destroy();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  return { path, bytes, sha256: hash.digest("hex") };
}

/** The archive record's id: the file's place under archive.path, without the extension. */
export function archiveId(relay: string, ticket: string, queueId: string, arrival: number): string {
  return `${relay}/${ticket}/${queueId}-${Math.trunc(arrival)}`;
}

/** SHA-256 (hex) of a file as it is on disk now. */
export function fileSha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (c) => hash.update(c))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

export type ArchiveCheck = { ok: true } | { ok: false; why: string };

/** Whether an archived file is still what was written: present, same size, same SHA-256. */
export async function checkArchived(m: {
  path: string;
  bytes: number;
  sha256: string;
}): Promise<ArchiveCheck> {
  let sha: string;
  try {
    sha = await fileSha256(m.path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      ok: false,
      why: code === "ENOENT" ? "the archived file is missing" : `cannot read it (${code ?? e})`,
    };
  }
  if (sha !== m.sha256)
    return {
      ok: false,
      why: `checksum mismatch: the file changed since it was archived (sha256 ${sha.slice(0, 12)}…, recorded ${m.sha256.slice(0, 12)}…)`,
    };
  return { ok: true };
}
