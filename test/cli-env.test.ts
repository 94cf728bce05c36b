import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runMain } from "./helpers/cli.js";

const cli = (argv: string[], cwd: string, env: NodeJS.ProcessEnv) => runMain(argv, { cwd, env });

describe("the CLI reads ./.env", () => {
  it("takes settings from the working directory's .env, under the process environment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mailq-dotenv-"));
    writeFileSync(join(dir, ".env"), `MAILQ_CONFIG=${join(dir, "from-dotenv.yaml")}\n`);
    const fromFile = await cli(["status"], dir, { PATH: process.env.PATH });
    expect(fromFile.code).toBe(2);
    expect(fromFile.err).toContain(`${join(dir, "from-dotenv.yaml")} does not exist`);
    const fromEnv = await cli(["status"], dir, { MAILQ_CONFIG: join(dir, "from-env.yaml") });
    expect(fromEnv.err).toContain(`${join(dir, "from-env.yaml")} does not exist`);
  });

  it("an empty MAILQ_CONFIG= in the environment is not set: the .env's value applies", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mailq-dotenv-"));
    writeFileSync(join(dir, ".env"), `MAILQ_CONFIG=${join(dir, "x.yaml")}\n`);
    const r = await cli(["status"], dir, { MAILQ_CONFIG: "" });
    expect(r.err).toContain(`${join(dir, "x.yaml")} does not exist`);
  });
});
