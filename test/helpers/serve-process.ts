import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

/** One line of serve's JSON log; a line that is not JSON is kept as level "raw". */
export interface LogLine {
  msg: string;
  level: string;
  [k: string]: unknown;
}

export interface ServeProcess {
  proc: ChildProcess;
  log: LogLine[];
  /** The exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** A real `mailq-bot serve` (the CLI, as deployed) with only the environment given (and PATH). */
export function spawnServe(configFile: string, env: Record<string, string>): ServeProcess {
  const proc = spawn(process.execPath, ["--import", "tsx", CLI, "serve", "--config", configFile], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const log: LogLine[] = [];
  createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on("line", (l) => {
    try {
      log.push(JSON.parse(l));
    } catch {
      log.push({ msg: l, level: "raw" });
    }
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return { proc, log, exited };
}

/** Polls until f answers (not undefined or false); on timeout, the error carries `context()` (the logs). */
export async function until<T>(
  f: () => T | undefined | false,
  timeoutMs: number,
  what: string,
  context: () => unknown,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}; logs: ${JSON.stringify(context())}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
