/**
 * What a lab sets up machine-wide the first time it runs (users, a sudoers drop-in, an empty
 * /etc/postfix/main.cf, state directories) and other labs then share. The demo notes which of
 * them it created, and its `down` removes those once no other lab is running.
 */
import { existsSync } from "node:fs";
import { readdir, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod";
import {
  DEFAULT_LAB_BASE,
  dnsUsers,
  GATE_USER,
  RUN_DIR,
  SUDO_USER,
  SUDOERS_FILE,
  withLabLock,
} from "../../test/lab/lab.js";
import { run } from "../../test/lab/sys.js";

const USERS = [SUDO_USER, GATE_USER];
const FILES = ["/etc/postfix/main.cf", SUDOERS_FILE];
const DIRS = [RUN_DIR, "/run/sshd", DEFAULT_LAB_BASE];

/** As recorded in the demo's root; only these names, so that a damaged record removes nothing else. */
export const createdSchema = z.object({
  users: z.array(z.enum(USERS)),
  files: z.array(z.enum(FILES)),
  /** Removed when empty (RUN_DIR: with its contents). */
  dirs: z.array(z.enum(DIRS)),
});
export type CreatedByDemo = z.infer<typeof createdSchema>;

const userExists = async (u: string) => (await run(["id", "-u", u])).code === 0;

/** The shared pieces that do not exist yet: whatever of them is there after the demo started, it created. */
export async function notYetPresent(): Promise<CreatedByDemo> {
  const users: string[] = [];
  for (const u of USERS) if (!(await userExists(u))) users.push(u);
  return { users, files: FILES.filter((f) => !existsSync(f)), dirs: DIRS.filter((d) => !existsSync(d)) };
}

/**
 * Removes what the demo created, unless another lab still runs (it uses them). Says what it
 * removed, and what it kept and why.
 */
export async function removeCreated(created: CreatedByDemo): Promise<string[]> {
  const said: string[] = [];
  if (created.users.length + created.files.length + created.dirs.length === 0) return said;
  await withLabLock(async () => {
    const others = await dnsUsers();
    if (others.length > 0) {
      said.push(
        `kept what it set up machine-wide (${[...created.users, ...created.files, ...created.dirs].join(", ")}): other labs use it (${others.join(", ")})`,
      );
      return;
    }
    for (const u of created.users) {
      if (!(await userExists(u))) continue;
      const r = await run(["userdel", "--remove", u]);
      said.push(
        (await userExists(u)) ? `userdel ${u} failed: ${r.stderr.trim()}` : `removed the lab user ${u}`,
      );
    }
    for (const f of created.files) {
      await rm(f, { force: true });
      said.push(`removed ${f}`);
    }
    // The lock file too: a lab waiting on it finds it removed once it gets it, and takes a new one.
    if (created.dirs.includes(RUN_DIR))
      for (const e of await readdir(RUN_DIR).catch(() => [] as string[]))
        await rm(join(RUN_DIR, e), { recursive: true, force: true });
  });
  // A directory another lab filled meanwhile stays.
  for (const d of created.dirs) await rmdir(d).catch(() => {});
  return said;
}
