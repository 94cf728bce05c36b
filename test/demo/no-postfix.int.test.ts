/**
 * `npm start -- status` on a machine without Postfix and without a mailq.yaml points at the demo
 * in one line. "Without Postfix": the CLI runs in a private mount namespace where an empty tmpfs
 * hides /usr/sbin (/sbin links to it), so the local runner finds no postqueue on any PATH.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localConfig } from "../../src/config.js";
import { fullCardWithinMs } from "../helpers/deadlines.js";
import { run } from "../lab/sys.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const POINTER =
  /^No mailq\.yaml and no Postfix answering on this machine: `npm run demo` \(as root\) shows the bot/m;

let cwd = "";
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "mailq-no-postfix-"));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

/** `mailq-bot ARGS` from an empty directory, with /usr/sbin hidden; the script is fixed, ARGS travel as "$@". */
function statusWithoutPostfix(args: string[]) {
  const { MAILQ_CONFIG: _, ...env } = process.env;
  return run(
    [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      'mount -t tmpfs -o size=1m none /usr/sbin && exec "$@"',
      "sh",
      process.execPath,
      "--import",
      pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href,
      join(REPO, "src/cli.ts"),
      ...args,
    ],
    // The built-in configuration is the one under test: the bot answers within its deadlines.
    { cwd, env, timeoutMs: fullCardWithinMs(localConfig(cwd)) },
  );
}

describe("status with no Postfix and no configuration", () => {
  it("says in one line that npm run demo shows the bot on a loopback relay", async () => {
    const r = await statusWithoutPostfix(["status"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/== local: not answering · .*postqueue -j: command not found/);
    expect(r.stdout.split("\n").filter((l) => POINTER.test(l))).toHaveLength(1);
  });

  it("with --json keeps stdout one JSON document and gives the pointer on stderr", async () => {
    const r = await statusWithoutPostfix(["status", "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout) as { relays: { relay: string; ok: boolean }[] };
    expect(doc.relays).toMatchObject([{ relay: "local", ok: false }]);
    expect(r.stderr).toMatch(POINTER);
  });

  it("gives no pointer when a mailq.yaml names the relays, even if none answers", async () => {
    const dir = await mkdtemp(join(cwd, "configured-"));
    await writeFile(
      join(dir, "mailq.yaml"),
      'relays:\n  - {name: mx1, host: 127.0.0.1, port: 1, username: root, privateKeyPath: /nonexistent, hostKeyFingerprint: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}\n',
    );
    const r = await statusWithoutPostfix(["status", "--config", join(dir, "mailq.yaml")]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/== mx1: not answering/);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/npm run demo/);
  });
});
