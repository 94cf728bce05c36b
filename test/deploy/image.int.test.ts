/**
 * deploy/Dockerfile rehearsed without a Docker engine (this machine has only the client): its
 * build stage's RUN line runs on a copy of what its COPY lines bring in (node_modules copied from
 * this checkout, as `npm ci` would leave them; npm stays offline), the final stage's layout is
 * assembled from its COPY lines, and its ENTRYPOINT runs as an unprivileged user. This proves the
 * build succeeds, the pruned image runs without dev dependencies, and nothing needs root. It does
 * not prove the base image's packages (tini, the Debian toolchain): only `docker build` can.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadConfig } from "../../src/config.js";
import { firstCardWithinMs } from "../helpers/deadlines.js";
import { type FakeSlack, postSigned, slashCommandBody, startFakeSlack } from "../helpers/slack.js";

const REPO = new URL("../..", import.meta.url).pathname;
const run = promisify(execFile);

interface Stage {
  from: string;
  name?: string;
  lines: { op: string; args: string }[];
}

/** The Dockerfile's stages and instructions (continuation lines joined). */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const joined = text.replace(/\\\n/g, " ");
  for (const raw of joined.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`unreadable Dockerfile line: ${line}`);
    const [, op = "", args = ""] = m;
    if (op === "FROM") {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: f?.[1] ?? args, ...(f?.[2] ? { name: f[2] } : {}), lines: [] });
    } else stages.at(-1)?.lines.push({ op, args });
  }
  return stages;
}

const stages = parseDockerfile(readFileSync(join(REPO, "deploy/Dockerfile"), "utf8"));
const build = stages[0] as Stage;
const final = stages.at(-1) as Stage;
const USER = "nobody";
let root: string;
let buildDir: string;
let imageDir: string;
let slack: FakeSlack;

/** An unprivileged user's process, as USER in the final stage. */
function asUser(argv: string[], env: NodeJS.ProcessEnv, cwd: string) {
  const ids = ["--reuid", USER, "--regid", "nogroup", "--clear-groups"];
  return { cmd: "setpriv", args: [...ids, ...argv], opts: { cwd, env } };
}

beforeAll(async () => {
  slack = await startFakeSlack();
  root = mkdtempSync(join(tmpdir(), "mailq-image-"));
  chmodSync(root, 0o755);
  buildDir = join(root, "build");
  imageDir = join(root, "app");
  mkdirSync(buildDir);
  mkdirSync(imageDir);
  // The build stage: its COPY lines from the checkout, node_modules as `npm ci` leaves them.
  for (const l of build.lines.filter((x) => x.op === "COPY")) {
    const parts = l.args.split(/\s+/);
    const dest = parts.pop() as string;
    for (const src of parts) {
      const to = dest.endsWith("/") ? join(buildDir, dest, basename(src)) : join(buildDir, dest);
      cpSync(join(REPO, src), to, { recursive: true });
    }
  }
  // `npm ci` itself, checked offline: it refuses a package-lock.json out of step with package.json.
  const ci = build.lines.find((x) => x.op === "RUN" && /^npm ci\b/.test(x.args));
  expect(ci?.args).toBe("npm ci --no-audit --no-fund");
  await run("sh", ["-c", `${ci?.args} --dry-run --offline`], { cwd: buildDir, timeout: 120_000 });
  cpSync(join(REPO, "node_modules"), join(buildDir, "node_modules"), {
    recursive: true,
    verbatimSymlinks: true,
  });
  // The build stage's RUN lines after `npm ci` (which the copy stands for), npm kept offline.
  const runs = build.lines.filter((x) => x.op === "RUN" && !/apt-get|npm ci/.test(x.args));
  expect(runs.map((r) => r.args)).toEqual(["npm run build && npm prune --omit=dev"]);
  for (const r of runs)
    await run("sh", ["-c", r.args], {
      cwd: buildDir,
      env: {
        ...process.env,
        npm_config_offline: "true",
        npm_config_audit: "false",
        npm_config_fund: "false",
      },
      timeout: 240_000,
    });
  // The final stage: COPY --from=build and COPY from the checkout.
  for (const l of final.lines.filter((x) => x.op === "COPY")) {
    const fromBuild = l.args.startsWith("--from=build ");
    const [src = "", dest = ""] = l.args.replace(/^--from=\S+\s+/, "").split(/\s+/);
    const from = fromBuild ? join(buildDir, src.replace(/^\/app\//, "")) : join(REPO, src);
    const to = dest.endsWith("/") ? join(imageDir, dest, basename(src)) : join(imageDir, dest);
    cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  }
  await run("chmod", ["-R", "a+rX", root]);
}, 300_000);

afterAll(async () => {
  await slack?.close();
  if (root) await run("rm", ["-rf", root]);
});

/** The final stage's ENV, as KEY=VALUE pairs. */
const imageEnv = (): Record<string, string> =>
  Object.fromEntries(
    final.lines
      .filter((x) => x.op === "ENV")
      .flatMap((x) => x.args.split(/\s+/))
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );

const entrypoint = () => {
  const e = final.lines.find((x) => x.op === "ENTRYPOINT")?.args ?? "[]";
  // tini only forwards signals; the image's own command is what follows "--".
  const argv = JSON.parse(e) as string[];
  return argv.slice(argv.indexOf("--") + 1);
};

describe("deploy/Dockerfile, rehearsed without Docker", () => {
  it("is multi-stage and runs as a non-root user", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(final.lines.find((x) => x.op === "USER")?.args).toMatch(/^(?!root$|0$)\S+$/);
    expect(JSON.parse(final.lines.find((x) => x.op === "CMD")?.args ?? "[]")).toEqual(["serve"]);
  });

  it("the final stage holds the built bot and only runtime dependencies", () => {
    expect(existsSync(join(imageDir, entrypoint()[1] ?? "missing"))).toBe(true);
    for (const dev of ["typescript", "vitest", "tsx", "@biomejs/biome", "nock"])
      expect(existsSync(join(imageDir, "node_modules", dev)), dev).toBe(false);
    for (const dep of Object.keys(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).dependencies))
      expect(existsSync(join(imageDir, "node_modules", dep)), dep).toBe(true);
    expect(existsSync(join(imageDir, "src"))).toBe(false);
  });

  it("as an unprivileged user, the entrypoint answers help and a status (a relay that is down: its row says so)", async () => {
    const cfgDir = join(root, "etc");
    mkdirSync(cfgDir, { recursive: true });
    writeFileSync(
      join(cfgDir, "mailq.yaml"),
      stringify({
        relays: [
          {
            name: "relay-down",
            host: "127.0.0.1",
            port: 1,
            username: "mailqbot",
            privateKeyPath: join(cfgDir, "id_ed25519"),
            hostKeyFingerprint: `SHA256:${"A".repeat(43)}`,
          },
        ],
        // No store or archive path: the defaults resolve in the image's state directory.
      }),
    );
    // The image's STATE_DIRECTORY, moved to a scratch folder (this rehearsal has no /var/lib of its own).
    expect(imageEnv().STATE_DIRECTORY).toBe("/var/lib/mailq-bot");
    mkdirSync(join(root, "state"), { recursive: true });
    await run("chown", ["-R", `${USER}:nogroup`, join(root, "state")]);
    const env = {
      PATH: "/usr/bin:/bin",
      NODE_ENV: "production",
      MAILQ_CONFIG: join(cfgDir, "mailq.yaml"),
      STATE_DIRECTORY: join(root, "state"),
    };
    const [node = "node", cli = ""] = entrypoint();
    const help = asUser([process.execPath, cli, "help"], env, imageDir);
    const h = await run(help.cmd, help.args, help.opts);
    expect(h.stdout).toContain("mailq-bot status");
    expect(node).toBe("node");

    const status = asUser([process.execPath, cli, "status", "--json"], env, imageDir);
    const s = await run(status.cmd, status.args, status.opts).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect((s as { code?: number }).code).toBe(1);
    const snap = JSON.parse(s.stdout).relays[0];
    expect(snap.ok).toBe(false);
    expect(snap.error).toMatch(/relay-down: cannot read privateKeyPath/);
    expect(existsSync(join(root, "state", "data", "mailq.sqlite"))).toBe(true);
  }, 60_000);

  it("as an unprivileged user, serve starts, answers /healthz and stops cleanly on SIGTERM", async () => {
    const env = {
      PATH: "/usr/bin:/bin",
      NODE_ENV: "production",
      MAILQ_CONFIG: join(root, "etc", "mailq.yaml"),
      STATE_DIRECTORY: join(root, "state"),
      SLACK_BOT_TOKEN: "xoxb-image-test",
      SLACK_SIGNING_SECRET: "image-signing-secret-0123456789",
      SLACK_API_URL: slack.apiUrl,
      PORT: "0",
    };
    const [, cli = ""] = entrypoint();
    const s = asUser(
      [process.execPath, cli, ...JSON.parse(final.lines.find((x) => x.op === "CMD")?.args ?? "[]")],
      env,
      imageDir,
    );
    const proc: ChildProcess = spawn(s.cmd, s.args, { ...s.opts, stdio: ["ignore", "ignore", "pipe"] });
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on("line", (l) => {
      try {
        lines.push(JSON.parse(l));
      } catch {
        lines.push({ msg: l });
      }
    });
    try {
      const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const t = setInterval(() => {
          const hit = lines.find((l) => l.msg === "mailq-bot started");
          if (hit) {
            clearInterval(t);
            resolve(hit);
          }
          if (proc.exitCode !== null) {
            clearInterval(t);
            reject(new Error(`serve exited ${proc.exitCode}: ${JSON.stringify(lines)}`));
          }
        }, 50);
      });
      expect(started).toMatchObject({ transport: "http", store: "sqlite" });
      expect(started.port).toEqual(expect.any(Number));
      const r = await fetch(`http://127.0.0.1:${started.port}/healthz`);
      expect(r.status).toBe(200);
      // The bundle finds package.json from dist/, as tsx does from src/.
      expect(await r.json()).toMatchObject({
        version: JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version,
      });
      // A real signed slash command through the bundled bot: Bolt, the access rules, the probe, the card.
      const ack = await postSigned(
        `http://127.0.0.1:${started.port}/slack/events`,
        slashCommandBody({
          text: "status",
          response_url: slack.responseUrl("image-status"),
          channel_id: "CIMAGE",
        }),
        { secret: env.SLACK_SIGNING_SECRET },
      );
      expect(ack.status).toBe(200);
      expect(JSON.parse(ack.text)).toMatchObject({ text: "Probing relay-down (read-only)…" });
      const config = loadConfig({ env, cwd: imageDir });
      const card = await slack.waitFor(
        "chat.postMessage",
        (c) => c.body.channel === "CIMAGE",
        firstCardWithinMs(config),
      );
      expect(String(card.body.text)).toMatch(/^relay-down: not answering · /m);
      // The image's HEALTHCHECK, as Docker runs it in the container: same user, same environment.
      const hc = /\bCMD\s+(\[.*\])$/.exec(final.lines.find((x) => x.op === "HEALTHCHECK")?.args ?? "");
      const [, hcCli = "", ...hcArgs] = JSON.parse(hc?.[1] ?? "[]") as string[];
      expect(hcArgs).toEqual(["healthcheck"]);
      const check = asUser(
        [process.execPath, hcCli, ...hcArgs],
        { ...env, PORT: String(started.port) },
        imageDir,
      );
      await run(check.cmd, check.args, check.opts);
      const down = asUser([process.execPath, hcCli, ...hcArgs], { ...env, PORT: "1" }, imageDir);
      const refused = await run(down.cmd, down.args, down.opts).catch(
        (e: { code: number; stderr: string }) => e,
      );
      expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/healthcheck: /) });
    } finally {
      proc.kill("SIGTERM");
      await new Promise((r) => proc.once("exit", r));
    }
    expect(proc.exitCode).toBe(0);
  }, 60_000);
});
