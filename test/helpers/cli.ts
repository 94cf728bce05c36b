import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { main } from "../../src/cli.js";

/** `mailq-bot ARGS --config FILE` in-process, as an operator runs it, with `config` written to a fresh directory. */
export async function runCli(
  args: string[],
  config: unknown,
  env: NodeJS.ProcessEnv = {},
  o: { stderrIsTty?: boolean } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "mailq-cli-"));
  writeFileSync(join(dir, "mailq.yaml"), stringify(config));
  let out = "";
  let err = "";
  const started = Date.now();
  const code = await main({
    argv: [...args, "--config", join(dir, "mailq.yaml")],
    env: { ...process.env, ...env },
    cwd: dir,
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    nowMs: Date.now,
    ...(o.stderrIsTty ? { stderrIsTty: true } : {}),
  });
  return { code, out, err, ms: Date.now() - started };
}
