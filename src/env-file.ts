import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { withoutEmpty } from "./config.js";

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

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
