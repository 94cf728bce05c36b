import { randomBytes } from "node:crypto";
import { mkdir, open, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config.js";
import { describeError, isMailqError } from "../errors.js";
import { openStore } from "../store/open.js";
import { type Check, fail, ok } from "../util/check.js";

/** The store opens (and migrates) and closes again. */
export async function storeCheck(config: Config, env: NodeJS.ProcessEnv): Promise<Check> {
  const where = env.MAILQ_DATABASE_URL
    ? "PostgreSQL at MAILQ_DATABASE_URL"
    : `SQLite at ${config.store.path}`;
  try {
    const store = await openStore(config, env);
    await store.close();
    return ok("store", "open", `${where} opens and is migrated`);
  } catch (e) {
    // A newer release's store: the error says what to do, not where the store lives.
    if (isMailqError(e) && e.code === "STORE_SCHEMA_TOO_NEW")
      return fail("store", "open", `${where} does not open: ${e.message}`, e.hint ?? "");
    return fail(
      "store",
      "open",
      `${where} does not open: ${describeError(e)}`,
      env.MAILQ_DATABASE_URL
        ? "check MAILQ_DATABASE_URL (host, credentials, database) and that PostgreSQL accepts the bot's connections"
        : "point store.path at a writable place (relative paths resolve in the state directory, /var/lib/mailq-bot under the unit) owned by the bot's user",
    );
  }
}

/** Deleted mail is archived here first: the folder must take a file and fsync it. */
export async function archiveCheck(config: Config): Promise<Check> {
  const dir = config.archive.path;
  const probe = join(dir, `.doctor-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const fh = await open(probe, "wx", 0o600);
    try {
      await fh.writeFile("mailq-bot doctor probe\n");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await unlink(probe);
    const d = await open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    return ok("archive", "writable", `${dir} takes a file and fsyncs it`);
  } catch (e) {
    await unlink(probe).catch(() => {});
    return fail(
      "archive",
      "writable",
      `${dir} is not writable: ${describeError(e)}; an approved delete would fail before deleting anything`,
      "set archive.path to a writable folder owned by the bot's user (a relative path resolves in the state directory, /var/lib/mailq-bot under the unit)",
    );
  }
}
