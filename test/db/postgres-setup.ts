/**
 * vitest globalSetup of the "postgres" project: a throwaway PostgreSQL cluster in a temp dir,
 * listening only on 127.0.0.1 (and a Unix socket in the same dir), with a random password.
 * Tests read its URL with `inject("postgresUrl")`. Needs the Debian packages that
 * test/db/install-postgres.sh installs.
 */
import { execFile } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";
import "./types.js";

const run = promisify(execFile);

function pgBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const v = versions[0];
  if (v === undefined)
    throw new Error(
      "postgres tests: no /usr/lib/postgresql/*/bin/initdb; run `bash test/db/install-postgres.sh` as root first",
    );
  return join(root, v, "bin");
}

/** initdb refuses root: as root, the cluster belongs to the `postgres` user. */
async function clusterUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
    const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
    return { uid, gid };
  } catch {
    throw new Error(
      "postgres tests run as root but there is no `postgres` user to own the cluster; run test/db/install-postgres.sh",
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (a && typeof a === "object" ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const bin = pgBinDir();
  const owner = await clusterUser();
  const dir = mkdtempSync(join(tmpdir(), "mailq-pg-"));
  const data = join(dir, "data");
  const password = `pw-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
  const as = owner ? { uid: owner.uid, gid: owner.gid } : {};
  if (owner) chownSync(dir, owner.uid, owner.gid);
  chmodSync(dir, 0o700);
  const pwfile = join(dir, "pw");
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) chownSync(pwfile, owner.uid, owner.gid);

  await run(
    join(bin, "initdb"),
    ["-D", data, "-U", "mailq", `--pwfile=${pwfile}`, "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"],
    { ...as, cwd: dir },
  );
  rmSync(pwfile);
  const port = await freePort();
  const opts = [
    "-c listen_addresses=127.0.0.1",
    `-c port=${port}`,
    `-c unix_socket_directories=${dir}`,
    "-c fsync=off",
    "-c max_connections=200",
  ].join(" ");
  const stop = async () => {
    await run(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"], { ...as, cwd: dir }).catch(
      () => {},
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run(join(bin, "pg_ctl"), ["-D", data, "-l", join(dir, "server.log"), "-o", opts, "-w", "start"], {
      ...as,
      cwd: dir,
    });
    const url = `postgres://mailq:${encodeURIComponent(password)}@127.0.0.1:${port}/mailq_test`;
    const { default: pg } = await import("pg");
    const admin = new pg.Client({ connectionString: url.replace(/\/mailq_test$/, "/postgres") });
    await admin.connect();
    await admin.query("CREATE DATABASE mailq_test");
    await admin.end();
    provide("postgresUrl", url);
    console.log(`postgres ready on 127.0.0.1:${port} (${dir}) in ${Date.now() - t0} ms`);
  } catch (e) {
    await stop();
    throw e;
  }
  return stop;
}
