/**
 * The documented shortcut for queues too big to fill over SMTP in a benchmark's time: clone the
 * real queue files Postfix already wrote (deferred and hold, with their defer logs) under fresh
 * names, then let Postfix's own `postsuper -s` rename every clone to match its inode and move it
 * to the right hash directory, exactly as after restoring a queue from backup. The result is
 * made of real Postfix queue files; the caller verifies that showq lists them all.
 */
import { chown, copyFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { LabRelay } from "../test/lab/lab.js";
import { execOk, log } from "./lib.js";

interface Source {
  queue: "deferred" | "hold";
  id: string;
  file: string;
  deferLog: string | null;
}

async function listQueue(qdir: string, queue: "deferred" | "hold"): Promise<Source[]> {
  const out: Source[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(dir, e.name));
      else if (e.isFile()) out.push({ queue, id: e.name, file: join(dir, e.name), deferLog: null });
    }
  };
  await walk(join(qdir, queue));
  return out;
}

async function findDeferLogs(qdir: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(dir, e.name));
      else if (e.isFile()) m.set(e.name, join(dir, e.name));
    }
  };
  await walk(join(qdir, "defer"));
  return m;
}

/** A fresh short-ID-shaped name (upper-case hex) that no real file has: postsuper -s renames it. */
function freshName(k: number): string {
  // The first five digits stand for microseconds (and pick the hash directory): spread them.
  const usec = ((k * 2654435761) >>> 0) % 0x100000;
  return `${usec.toString(16).toUpperCase().padStart(5, "0")}${k.toString(16).toUpperCase().padStart(6, "0")}`;
}

export async function cloneQueue(
  relay: LabRelay,
  count: number,
): Promise<{ cloned: number; notes: string[]; postsuperSeconds: number }> {
  const qdir = relay.queueDirectory;
  const logs = await findDeferLogs(qdir);
  const sources = [...(await listQueue(qdir, "deferred")), ...(await listQueue(qdir, "hold"))];
  for (const s of sources) s.deferLog = logs.get(s.id) ?? null;
  if (sources.length === 0) throw new Error("nothing to clone");
  const owner = await stat(sources[0]?.file ?? "");
  log(`cloning ${count} queue files from ${sources.length} real ones`);
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (let k = next++; k < count; k = next++) {
      const src = sources[k % sources.length] as Source;
      const name = freshName(k);
      // deferred/ and defer/ are hashed by the first character (hash_queue_depth 1).
      const dst = join(qdir, src.queue, src.queue === "deferred" ? name.slice(0, 1) : "", name);
      await copyFile(src.file, dst);
      await chown(dst, owner.uid, owner.gid);
      if (src.deferLog) {
        const dl = join(qdir, "defer", name.slice(0, 1), name);
        await copyFile(src.deferLog, dl);
        await chown(dl, owner.uid, owner.gid);
      }
      if (++done % 100_000 === 0) log(`cloned ${done}`);
    }
  };
  const hashDirs = [..."0123456789ABCDEF"].flatMap((h) => [
    join(qdir, "deferred", h),
    join(qdir, "defer", h),
  ]);
  await execOk(["mkdir", "-p", ...hashDirs]);
  await execOk(["chown", `${owner.uid}:${owner.gid}`, ...hashDirs]);
  await execOk(["chmod", "700", ...hashDirs]);
  await Promise.all(Array.from({ length: 32 }, worker));
  log("postsuper -s: renaming the clones to match their inodes");
  const t = Date.now();
  await execOk(["/usr/sbin/postsuper", "-s"], { env: { ...process.env, MAIL_CONFIG: relay.configDir } });
  const postsuperSeconds = (Date.now() - t) / 1000;
  return {
    cloned: count,
    postsuperSeconds,
    notes: [
      `${count} further messages cloned from those real queue files (deferred and hold, each with its defer log) under fresh names, then \`postsuper -s\` (${postsuperSeconds.toFixed(0)} s) renamed each to match its inode, as after restoring a queue from backup; showq lists them (checked below)`,
    ],
  };
}
