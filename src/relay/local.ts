import { spawn } from "node:child_process";
import {
  CappedText,
  type CommandRunner,
  type RunOptions,
  type RunResult,
  withCommandPath,
} from "./runner.js";

/** Runs commands on this machine, without a shell. */
export class LocalRunner implements CommandRunner {
  constructor(
    readonly relay: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  run(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
    const [cmd, ...args] = withCommandPath(argv);
    if (!cmd) return Promise.reject(new Error("empty command"));
    const max = opts.maxOutputBytes ?? 4 << 20;
    return new Promise((resolve) => {
      const out = new CappedText(max);
      const err = new CappedText(max);
      let timedOut = false;
      const child = spawn(cmd, args, { env: this.env, stdio: ["pipe", "pipe", "pipe"] });
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, opts.timeoutMs);
      child.stdout.on("data", (c: Buffer) => (opts.onStdout ? opts.onStdout(c) : out.push(c)));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      child.stdin.on("error", () => {});
      child.stdin.end(opts.stdin ?? "");
      child.on("error", (e) => {
        clearTimeout(timer);
        resolve({ code: 127, stdout: "", stderr: `${cmd}: ${e.message}`, timedOut });
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout: out.toString(), stderr: err.toString(), timedOut });
      });
    });
  }

  async close(): Promise<void> {}
}
