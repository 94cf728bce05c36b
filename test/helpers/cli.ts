import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { main } from "../../src/cli.js";

/** `mailq-bot ARGV` in-process, exactly as given: its exit code, stdout and stderr. */
export async function runMain(
  argv: string[],
  o: { cwd?: string; env?: NodeJS.ProcessEnv; stderrIsTty?: boolean } = {},
) {
  let out = "";
  let err = "";
  const code = await main({
    argv,
    env: o.env ?? {},
    cwd: o.cwd ?? "/nonexistent",
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    nowMs: Date.now,
    ...(o.stderrIsTty ? { stderrIsTty: true } : {}),
  });
  return { code, out, err };
}

/** `mailq-bot ARGS --config FILE` in-process, as an operator runs it, with `config` written to a fresh directory. */
export async function runCli(
  args: string[],
  config: unknown,
  env: NodeJS.ProcessEnv = {},
  o: { stderrIsTty?: boolean } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "mailq-cli-"));
  writeFileSync(join(dir, "mailq.yaml"), stringify(config));
  const started = Date.now();
  const r = await runMain([...args, "--config", join(dir, "mailq.yaml")], {
    cwd: dir,
    env: { ...process.env, ...env },
    ...o,
  });
  return { ...r, ms: Date.now() - started };
}
