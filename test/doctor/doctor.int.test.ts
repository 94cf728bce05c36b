/**
 * `mailq-bot doctor` against a lab relay reached as deployed (the gate user, sudo from
 * render-sudoers) and the loopback Slack: green as set up, and each breakage named with its fix.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { BOT_SCOPES } from "../../src/slack/scopes.js";
import { SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { runCli } from "../helpers/cli.js";
import { asGate, labRelayEntry } from "../helpers/lab-relay.js";
import { type FakeSlack, startFakeSlack } from "../helpers/slack.js";
import { type LabRelay, startRelay } from "../lab/lab.js";
import { setRelayCert } from "../lab/triage-scenarios.js";

const run = promisify(execFile);
const lab = inject("lab");
let relay: LabRelay;
let certPath: string;
let slack: FakeSlack;
const dir = mkdtempSync(join(tmpdir(), "mailq-doctor-"));
let scopes = Object.keys(BOT_SCOPES);
const members = new Set(["CINCIDENT"]);

beforeAll(async () => {
  relay = await startRelay(lab, "relay-doctor");
  // Triage reads its end date through the gate (openssl x509 -enddate): doctor runs that too.
  certPath = await setRelayCert(
    relay,
    new Date(Date.now() - 86_400_000),
    new Date(Date.now() + 200 * 86_400_000),
  );
  slack = await startFakeSlack();
  slack.on("auth.test", () => ({
    headers: { "x-oauth-scopes": scopes.join(",") },
    body: { ok: true, user_id: "UBOT", user: "mailq-bot", team: "lab", team_id: "TLAB" },
  }));
  slack.on("conversations.info", (c) => ({
    body: {
      ok: true,
      channel: { id: c.body.channel, name: "incident", is_member: members.has(String(c.body.channel)) },
    },
  }));
});

afterAll(async () => {
  await slack?.close();
});

const env = () => ({
  SLACK_BOT_TOKEN: "xoxb-doctor",
  SLACK_APP_TOKEN: "xapp-doctor",
  SLACK_SIGNING_SECRET: "",
  SLACK_API_URL: slack.apiUrl,
});

function config(over: Record<string, unknown> = {}, relayOver: Record<string, unknown> = {}) {
  return {
    probes: { timeout: "15s" },
    store: { path: join(dir, "mailq.sqlite") },
    archive: { path: join(dir, "archive") },
    slack: { channels: ["CINCIDENT"] },
    relays: [labRelayEntry(relay, { ...asGate(relay), ...relayOver })],
    ...over,
  };
}

/** The lines of the checklist that failed, as "area name: detail / fix". */
const failures = (out: string) =>
  out
    .split("\n")
    .map((l, i, all) => (l.startsWith("FAIL") ? `${l} / ${all[i + 1]?.trim() ?? ""}` : undefined))
    .filter((l) => l !== undefined);

describe("mailq-bot doctor", () => {
  it("is green against the lab relay as deployed and Slack as set up", async () => {
    const { code, out } = await runCli(["doctor"], config(), env());
    expect(failures(out)).toEqual([]);
    expect(code).toBe(0);
    for (const line of [
      /^ok +config parse/m,
      /^ok +store open +SQLite at .*mailq\.sqlite opens and is migrated/m,
      /^ok +archive writable/m,
      /^ok +relay-doctor tcp/m,
      new RegExp(
        `^ok +relay-doctor host key +matches ${relay.hostKeyFingerprint.replace(/[+/]/g, "\\$&")}`,
        "m",
      ),
      /^ok +relay-doctor login +logged in as mailqgate/m,
      /^ok +relay-doctor gate +mailq-bot-gate answers/m,
      /^ok +relay-doctor probes +all \d+ probes answered/m,
      /^ok +relay-doctor io pressure +\/proc\/pressure\/io answers: status reads the I\/O stall from PSI/m,
      /^ok +relay-doctor sudo/m,
      new RegExp(`^ok +relay-doctor mail log +${relay.maillogPath} is readable`, "m"),
      /^ok +slack auth\.test +the token works: @mailq-bot in lab/m,
      /^ok +slack scopes/m,
      /^ok +slack channel +the bot is in #incident \(CINCIDENT\)/m,
      /^ok +slack socket mode/m,
    ])
      expect(out).toMatch(line);
    expect(out).toContain("All checks passed.");
  });

  it("names a wrong host key fingerprint, with where to compare it", async () => {
    const other = lab.relays.find((r) => r.name === "relay-a")?.hostKeyFingerprint;
    const { code, out } = await runCli(["doctor"], config({}, { hostKeyFingerprint: other }), env());
    expect(code).toBe(1);
    expect(failures(out)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^FAIL +relay-doctor host key +.*host key mismatch: expected ${other?.replace(/[+/]/g, "\\$&")}, the relay presented ${relay.hostKeyFingerprint.replace(/[+/]/g, "\\$&")}.* / fix: compare on the relay's console`,
        ),
      ),
    ]);
    expect(out).toMatch(/^skip +relay-doctor login/m);
  });

  it("names a missing sudo rule, and the mail log stays readable", async () => {
    const file = readdirSync("/etc/sudoers.d")
      .map((f) => join("/etc/sudoers.d", f))
      .find((f) => f.includes("mailq-gate-") && readFileSync(f, "utf8").includes(relay.queueDirectory));
    if (!file) throw new Error("no gate sudoers drop-in for relay-doctor");
    const original = readFileSync(file, "utf8");
    // The rule naming this relay's own queue (other relays' drop-ins grant the same user the rest).
    const broken = original
      .split("\n")
      .filter((l) => !l.includes(`${relay.queueDirectory}/pid/master.pid`))
      .join("\n");
    expect(broken).not.toBe(original);
    writeFileSync(file, broken, { mode: 0o440 });
    try {
      await run("visudo", ["-cf", file]);
      const { code, out } = await runCli(["doctor"], config(), env());
      expect(code).toBe(1);
      expect(failures(out)).toEqual([
        expect.stringMatching(
          /^FAIL +relay-doctor sudo +sudo -n refused: master\.pid: sudo -n asked for a password.* \/ fix: on the relay: deploy\/relay\/render-sudoers mailqgate/,
        ),
      ]);
      expect(out).toMatch(/^ok +relay-doctor mail log/m);
    } finally {
      writeFileSync(file, original, { mode: 0o440 });
    }
  });

  it("names a certificate the bot's user cannot read, with what to do", async () => {
    chmodSync(certPath, 0o600);
    try {
      const { code, out } = await runCli(["doctor"], config(), env());
      expect(code).toBe(1);
      expect(failures(out)).toEqual([
        expect.stringMatching(
          /^FAIL +relay-doctor probes +1 of \d+ probes failed: openssl x509 -enddate \(.*\/tls\/cert\.pem\) exited 1: .*the certificate must be readable by the bot's user/,
        ),
      ]);
    } finally {
      chmodSync(certPath, 0o644);
    }
  });

  it("names an archive folder the bot cannot write (a read-only file system, as under ProtectSystem=strict)", async () => {
    const ro = join(dir, "ro");
    mkdirSync(ro, { recursive: true });
    await run("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro]);
    try {
      const { code, out } = await runCli(["doctor"], config({ archive: { path: ro } }), env());
      expect(code).toBe(1);
      expect(failures(out)).toEqual([
        expect.stringMatching(
          /^FAIL +archive writable +.*\/ro is not writable: .*EROFS.*an approved delete would fail .* \/ fix: set archive\.path to a writable folder/,
        ),
      ]);
    } finally {
      await run("umount", [ro]);
    }
  });

  it("names a missing scope and a channel the bot is not in", async () => {
    scopes = Object.keys(BOT_SCOPES).filter((s) => s !== "files:write");
    members.delete("CINCIDENT");
    try {
      const { code, out } = await runCli(["doctor", "--relay", "relay-doctor"], config(), env());
      expect(code).toBe(1);
      expect(failures(out)).toEqual([
        expect.stringMatching(
          /^FAIL +slack scopes +missing: files:write \(the queue-depth chart in watch threads\) \/ fix: add them under OAuth & Permissions/,
        ),
        expect.stringMatching(
          /^FAIL +slack channel +the bot is not in #incident \(CINCIDENT\).* \/ fix: in #incident \(CINCIDENT\): \/invite @mailq-bot/,
        ),
      ]);
    } finally {
      scopes = Object.keys(BOT_SCOPES);
      members.add("CINCIDENT");
    }
  });

  it("HTTP mode: a signed request to SLACK_REQUEST_URL must come back from the running bot", async () => {
    const bot = await startBot({
      config: parseConfig({ relays: [labRelayEntry(relay)] }, "test", dir),
      apiUrl: slack.apiUrl,
    });
    try {
      const http = { ...env(), SLACK_APP_TOKEN: "", SLACK_REQUEST_URL: bot.url };
      const good = await runCli(["doctor"], config(), { ...http, SLACK_SIGNING_SECRET: SIGNING_SECRET });
      expect(good.out).toMatch(/^ok +slack env +HTTP mode/m);
      expect(good.out).toMatch(new RegExp(`^ok +slack http +${bot.url} answers a signed request`, "m"));
      expect(good.code).toBe(0);
      const wrong = await runCli(["doctor"], config(), {
        ...http,
        SLACK_SIGNING_SECRET: "another-secret-0123456789",
      });
      expect(wrong.code).toBe(1);
      expect(failures(wrong.out)).toEqual([
        expect.stringMatching(
          /^FAIL +slack http +.* answered HTTP 401 .* \/ fix: SLACK_SIGNING_SECRET differs/,
        ),
      ]);
    } finally {
      await bot.stop();
    }
  });

  it("a configuration that does not parse is the first failure, with its fix", async () => {
    const { code, out } = await runCli(["doctor"], { relays: [{ name: "bad name" }] });
    expect(code).toBe(1);
    expect(out).toMatch(/^FAIL +config parse +Configuration .* is invalid:/m);
  });
});

describe("mailq-bot fingerprint", () => {
  it("prints the fingerprint the relay presents, as the configuration wants it, with the warning", async () => {
    const { code, out, err } = await runCli(["fingerprint", `127.0.0.1:${relay.port}`], {});
    expect(code).toBe(0);
    expect(out).toBe(`hostKeyFingerprint: "${relay.hostKeyFingerprint}"\n`);
    expect(err).toMatch(/Compare it out of band/);
  });

  it("refuses what is not HOST[:PORT], and names a closed port", async () => {
    expect((await runCli(["fingerprint", "a b"], {})).code).toBe(2);
    expect((await runCli(["fingerprint"], {})).code).toBe(2);
    const closed = await runCli(["fingerprint", `127.0.0.1:${lab.refusedPort}`], {});
    expect(closed.code).toBe(1);
    expect(closed.err).toMatch(/no SSH host key: .*ECONNREFUSED/);
  });
});
