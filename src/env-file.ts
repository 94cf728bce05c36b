import { accessSync, constants, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { withoutEmpty } from "./config.js";
import { MailqError } from "./errors.js";

/**
 * The environment as the bot sees it: the working directory's `.env` (when there is one) under
 * the process environment, which wins, and empty values dropped (`NAME=` means not set).
 */
export function effectiveEnv(
  env: NodeJS.ProcessEnv,
  cwd: string,
  read: (path: string) => string | undefined = readIfExists,
): { env: NodeJS.ProcessEnv; file?: string } {
  const path = join(cwd, ".env");
  const text = read(path);
  if (text === undefined) return { env: withoutEmpty(env) };
  return { env: withoutEmpty({ ...withoutEmpty(parseEnv(text)), ...withoutEmpty(env) }), file: path };
}

/**
 * The file's text; undefined when there is none, or when this user cannot even look into the
 * folder (a service started from a folder it may not read has no .env there). A .env that is
 * there but unreadable is a mistake to fix, said in one line.
 */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    if (code === "EACCES" && !searchable(join(path, ".."))) return undefined;
    throw new MailqError("CONFIG_INVALID", `cannot read ${path}: ${(e as Error).message}`, {
      hint: "make it readable by the bot's user, or remove it (the process environment is used as it is)",
    });
  }
}

function searchable(dir: string): boolean {
  try {
    accessSync(dir, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
