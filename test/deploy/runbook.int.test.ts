/**
 * deploy/RUNBOOK.md, followed literally: every `sh` block runs as written, `bot` blocks on a
 * scratch bot root (DESTDIR) and `relay` blocks against a fresh lab relay's Postfix. What the
 * runbook leaves to the operator between blocks (copying the public key, editing mailq.yaml and
 * the env file) the test does as the runbook says. The relay's own sshd here uses the standard
 * `~/.ssh/authorized_keys` and this machine's host key, so the key line and the fingerprint the
 * relay's install.sh writes and prints are the ones that get used. Not covered: systemd itself
 * (test/deploy/systemctl.sh starts the unit's ExecStart as the unit says) and a real Slack.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { BOT_SCOPES } from "../../src/slack/scopes.js";
import { type FakeSlack, startFakeSlack } from "../helpers/slack.js";
import { type LabRelay, labPort, startRelay } from "../lab/lab.js";
import { canConnect, run, runOk, waitFor } from "../lab/sys.js";

const REPO = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const lab = inject("lab");
const tag = randomBytes(3).toString("hex");
const botUser = `mqrb${tag}b`;
const relayUser = `mqrb${tag}r`;
const sudoersFile = `/etc/sudoers.d/mailq-runbook-${tag}`;
const PUBKEY = "/tmp/mailq-bot.pub"; // where the runbook has the operator copy the bot's key
let relay: LabRelay;
let slack: FakeSlack;
let botRoot: string;
let relayRoot: string;
/** The checkout the runbook is followed in: a copy anyone can read, as /opt/mailq-bot would be. */
let app: string;
let sshdPort: number;
let sshdPid: number | undefined;
let httpPort: number;

/** The runbook's shell blocks, in order, with the host each runs on. */
function blocks(): { host: "bot" | "relay"; script: string }[] {
  const text = readFileSync(join(REPO, "deploy/RUNBOOK.md"), "utf8");
  const all = [...text.matchAll(/^```sh(?: (\w+))?\n([\s\S]*?)^```$/gm)];
  for (const m of all)
    if (m[1] !== "bot" && m[1] !== "relay")
      throw new Error(`a runbook sh block without a host (bot or relay): ${m[2]}`);
  return all.map((m) => ({ host: m[1] as "bot" | "relay", script: m[2] ?? "" }));
}

function envFor(host: "bot" | "relay"): NodeJS.ProcessEnv {
  const shims = join(botRoot, "shims");
  return host === "bot"
    ? {
        ...process.env,
        DESTDIR: botRoot,
        MAILQ_USER: botUser,
        PATH: `${join(botRoot, "usr/local/bin")}:${shims}:${process.env.PATH}`,
      }
    : {
        ...process.env,
        DESTDIR: relayRoot,
        MAILQ_RELAY_USER: relayUser,
        SUDOERS_FILE: sudoersFile,
        // This relay's Postfix is a lab instance: postconf (and render-sudoers) must ask it.
        MAIL_CONFIG: relay.configDir,
      };
}

async function runBlock(b: { host: "bot" | "relay"; script: string }) {
  const r = await run(["sh", "-e", "-c", b.script], { cwd: app, env: envFor(b.host), timeoutMs: 240_000 });
  if (r.code !== 0)
    throw new Error(
      `runbook ${b.host} block exited ${r.code}:\n${b.script}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  return r;
}

beforeAll(async () => {
  relay = await startRelay(lab, "relay-runbook");
  slack = await startFakeSlack();
  slack.on("auth.test", () => ({
    headers: { "x-oauth-scopes": Object.keys(BOT_SCOPES).join(",") },
    body: { ok: true, user_id: "UBOT", user: "mailq-bot", team: "lab", team_id: "TLAB" },
  }));
  slack.on("conversations.info", (c) => ({
    body: { ok: true, channel: { id: c.body.channel, name: "incident", is_member: true } },
  }));
  // The service runs as its own user, which must read the checkout: this one may sit in a
  // root-only folder (a CI clone under mktemp -d), so the runbook is followed in a copy.
  app = mkdtempSync(join(tmpdir(), "mailq-runbook-app-"));
  chmodSync(app, 0o755);
  for (const f of [
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    ".env.sample",
    "src",
    "commands",
    "scripts",
    "deploy",
  ])
    cpSync(join(REPO, f), join(app, f), { recursive: true });
  cpSync(join(REPO, "node_modules"), join(app, "node_modules"), { recursive: true, verbatimSymlinks: true });
  await run(["chmod", "-R", "a+rX", app]);
  botRoot = mkdtempSync(join(tmpdir(), "mailq-runbook-bot-"));
  relayRoot = mkdtempSync(join(tmpdir(), "mailq-runbook-relay-"));
  // The bot's and the relay's users must reach what is under these roots.
  chmodSync(botRoot, 0o755);
  chmodSync(relayRoot, 0o755);
  mkdirSync(join(botRoot, "shims"));
  symlinkSync(join(REPO, "test/deploy/systemctl.sh"), join(botRoot, "shims/systemctl"));
  sshdPort = await labPort(lab);
  httpPort = await labPort(lab);
}, 120_000);

afterAll(async () => {
  await run(["sh", join(REPO, "test/deploy/systemctl.sh"), "stop", "mailq-bot"], {
    env: { ...process.env, DESTDIR: botRoot },
  });
  if (sshdPid) await run(["kill", String(sshdPid)]);
  await run(["userdel", "--remove", relayUser]);
  await run(["userdel", botUser]);
  rmSync(sudoersFile, { force: true });
  rmSync(PUBKEY, { force: true });
  if (botRoot) rmSync(botRoot, { recursive: true, force: true });
  if (relayRoot) rmSync(relayRoot, { recursive: true, force: true });
  if (app) rmSync(app, { recursive: true, force: true });
  await slack?.close();
});

/** The relay's sshd as a stock one: keys in ~/.ssh/authorized_keys, this machine's host key. */
async function startRelaySshd(): Promise<void> {
  const dir = join(relayRoot, "sshd");
  mkdirSync(dir);
  const cfg = join(dir, "sshd_config");
  writeFileSync(
    cfg,
    `ListenAddress 127.0.0.1:${sshdPort}
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile ${join(dir, "sshd.pid")}
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
AllowUsers ${relayUser}
SetEnv MAIL_CONFIG=${relay.configDir}
UseDNS no
LogLevel VERBOSE
`,
  );
  await runOk(["/usr/sbin/sshd", "-f", cfg, "-E", join(dir, "sshd.log")]);
  await waitFor("the runbook relay's sshd", () => canConnect(sshdPort), 10_000);
  sshdPid = Number(readFileSync(join(dir, "sshd.pid"), "utf8").trim());
}

describe("deploy/RUNBOOK.md, every shell block as written", () => {
  it("installs the bot host and a relay, doctor is green, and the service answers /healthz", async () => {
    const all = blocks();
    expect(all.map((b) => b.host)).toEqual(["bot", "relay", "bot", "bot"]);
    const [install, relayInstall, check, start] = all as [
      (typeof all)[0],
      (typeof all)[0],
      (typeof all)[0],
      (typeof all)[0],
    ];

    // 1. The bot host.
    const installed = await runBlock(install);
    const etc = join(botRoot, "etc/mailq-bot");
    expect(installed.stdout).toContain(readFileSync(join(etc, "id_ed25519.pub"), "utf8").trim());
    // The operator copies the bot's public key to the relay.
    copyFileSync(join(etc, "id_ed25519.pub"), PUBKEY);

    // 2. The relay, twice: the second run changes nothing that matters.
    const relayOut = await runBlock(relayInstall);
    await runBlock(relayInstall);
    const home = (await runOk(["getent", "passwd", relayUser])).stdout.split(":")[5] ?? "";
    const keys = readFileSync(join(home, ".ssh/authorized_keys"), "utf8");
    const gate = join(relayRoot, "usr/local/lib/mailq-bot/mailq-bot-gate");
    expect(keys).toBe(
      `restrict,command="${gate} --log ${join(relayRoot, "var/log/mailq-bot-gate.log")} --state ${join(relayRoot, "var/lib/mailq-bot-gate")} --mail-config ${relay.configDir}" ${readFileSync(PUBKEY, "utf8").trim()}\n`,
    );
    // Where the gate records what it served whole: root's, writable by the bot's group only.
    const state = statSync(join(relayRoot, "var/lib/mailq-bot-gate"));
    expect([state.uid, state.mode & 0o777]).toEqual([0, 0o770]);
    expect(readFileSync(gate, "utf8")).toBe(readFileSync(join(REPO, "deploy/relay/mailq-bot-gate"), "utf8"));
    const fingerprint = /hostKeyFingerprint for mailq\.yaml: (SHA256:\S+)/.exec(relayOut.stdout)?.[1];
    expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    await startRelaySshd();

    // 3. Configure, as the operator does: the fingerprint the relay printed (the same one the
    // network presents), the relay, the channel; the Slack tokens in the env file.
    const presented = await run(["mailq-bot", "fingerprint", `127.0.0.1:${sshdPort}`], {
      env: envFor("bot"),
    });
    expect(presented.stdout, presented.stderr).toBe(`hostKeyFingerprint: "${fingerprint}"\n`);
    writeFileSync(
      join(etc, "mailq.yaml"),
      stringify({
        relays: [
          {
            name: "relay-runbook",
            host: "127.0.0.1",
            port: sshdPort,
            username: relayUser,
            privateKeyPath: join(etc, "id_ed25519"),
            hostKeyFingerprint: fingerprint,
            sudo: true,
          },
        ],
        access: { approvers: ["UBOB"] },
        slack: { channels: ["CINCIDENT"] },
      }),
    );
    writeFileSync(
      join(etc, "env"),
      `SLACK_BOT_TOKEN=xoxb-runbook\nSLACK_APP_TOKEN=\nSLACK_SIGNING_SECRET=runbook-signing-secret-0123\nPORT=${httpPort}\nSLACK_API_URL=${slack.apiUrl}\n`,
    );

    // 4. Check: doctor is green, as the bot's user (the wrapper drops root).
    const doctor = await runBlock(check);
    expect(doctor.stdout).not.toMatch(/^FAIL/m);
    expect(doctor.stdout).toMatch(/^ok +relay-runbook gate +mailq-bot-gate answers/m);
    expect(doctor.stdout).toMatch(/^ok +relay-runbook sudo/m);
    expect(doctor.stdout).toMatch(
      new RegExp(`^ok +store open +SQLite at ${join(botRoot, "var/lib/mailq-bot")}/`, "m"),
    );
    expect(doctor.stdout).toMatch(
      new RegExp(`^ok +archive writable +${join(botRoot, "var/lib/mailq-bot")}/`, "m"),
    );

    // 5. Start: the unit runs, and /healthz answers on the port the env file gives.
    await runBlock(start);
    const r = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    expect(r.status).toBe(200);
    expect(existsSync(join(botRoot, "var/lib/mailq-bot/data/mailq.sqlite"))).toBe(true);
  }, 600_000);

  it.each([
    [
      "two keys in one file",
      "ssh-ed25519 AAAAC3Nza mailq-bot\nssh-ed25519 AAAAC3Nzb other\n",
      /exactly one public key line/,
    ],
    [
      "options smuggled in front of the key",
      'command="/bin/sh" ssh-ed25519 AAAAC3Nza mailq-bot\n',
      /not a public key line/,
    ],
    ["a private key", "-----BEGIN OPENSSH PRIVATE KEY-----\n", /not a public key line/],
    ["a quote in the comment", 'ssh-ed25519 AAAAC3Nza a"b\n', /not a public key line/],
  ])("deploy/relay/install.sh refuses %s and changes nothing", async (_label, content, why) => {
    const file = join(relayRoot, `bad-${randomBytes(3).toString("hex")}.pub`);
    writeFileSync(file, content);
    const user = `mqrb${randomBytes(3).toString("hex")}x`;
    const r = await run(["sh", join(REPO, "deploy/relay/install.sh"), file], {
      env: { ...process.env, MAILQ_RELAY_USER: user, DESTDIR: join(relayRoot, "refused") },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(why);
    expect((await run(["id", "-u", user])).code).not.toBe(0);
    expect(existsSync(join(relayRoot, "refused"))).toBe(false);
  });

  it("deploy/install.sh refuses a user name that is not one, before changing anything", async () => {
    const root = join(botRoot, "refused");
    const r = await run(["sh", join(REPO, "deploy/install.sh")], {
      env: { ...process.env, MAILQ_USER: "a;b", DESTDIR: root },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/MAILQ_USER takes/);
    expect(existsSync(root)).toBe(false);
  });
});
