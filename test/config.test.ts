import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, parseConfig, parseSlackEnv, stateDirectory } from "../src/config.js";
import { MailqError } from "../src/errors.js";

const FP = `SHA256:${"Q".repeat(43)}`;
const relay = {
  name: "relay-a",
  host: "mx1.example.net",
  username: "mailqbot",
  privateKeyPath: "keys/bot",
  hostKeyFingerprint: FP,
};

function issues(raw: unknown): string {
  try {
    parseConfig(raw, "mailq.yaml", "/etc/mailq");
  } catch (e) {
    expect(e).toBeInstanceOf(MailqError);
    expect((e as MailqError).code).toBe("CONFIG_INVALID");
    return (e as MailqError).message;
  }
  throw new Error("expected the configuration to be refused");
}

describe("configuration", () => {
  it("applies defaults and resolves the key path against the config's folder", () => {
    const c = parseConfig({ relays: [relay] }, "mailq.yaml", "/etc/mailq");
    expect(c.relays[0]).toMatchObject({
      kind: "ssh",
      port: 22,
      sudo: false,
      privateKeyPath: "/etc/mailq/keys/bot",
    });
    expect(c.probes.timeout).toBe(20_000);
    expect(c.approvals).toEqual({ required: 1, expireAfter: 15 * 60_000 });
    expect(c.tickets.pattern).toBe("^[A-Z][A-Z0-9]+-[0-9]+$");
    expect(c.watch.interval).toBe(15 * 60_000);
    expect(c.slack.shutdownGrace).toBe(60_000);
  });

  it.each([
    ["no relays", { relays: [] }, ["relays: list at least one relay"]],
    [
      "a bad fingerprint",
      { relays: [{ ...relay, hostKeyFingerprint: "MD5:aa:bb" }] },
      ["relays.0.hostKeyFingerprint"],
    ],
    ["a bad port", { relays: [{ ...relay, port: 70000 }] }, ["relays.0.port"]],
    ["an unknown field", { relays: [{ ...relay, password: "hunter2" }] }, ["relays.0"]],
    ["a duplicate name", { relays: [relay, relay] }, ['relays.1.name: duplicate relay name "relay-a"']],
    ["a host with a shell", { relays: [{ ...relay, host: "mx1;reboot" }] }, ["relays.0.host"]],
    ["a bad duration", { relays: [relay], probes: { timeout: "soon" } }, ["probes.timeout"]],
    ["a bad approver ID", { relays: [relay], access: { approvers: ["alice"] } }, ["access.approvers.0"]],
    [
      "a stop grace past 5 minutes",
      { relays: [relay], slack: { shutdownGrace: "10m" } },
      ["slack.shutdownGrace: at most 5m"],
    ],
    [
      "a bad ticket regex",
      { relays: [relay], tickets: { pattern: "([" } },
      ["tickets.pattern: not a valid regular expression"],
    ],
  ])("refuses %s, naming the path", (_l, raw, expected) => {
    const msg = issues(raw);
    for (const e of expected) expect(msg).toContain(e);
  });

  it("lists every problem at once, each with its path", () => {
    const msg = issues({
      relays: [{ name: "bad name!", host: "", username: "", privateKeyPath: "", hostKeyFingerprint: "x" }],
    });
    for (const p of [
      "relays.0.name",
      "relays.0.host",
      "relays.0.username",
      "relays.0.privateKeyPath",
      "relays.0.hostKeyFingerprint",
    ])
      expect(msg).toContain(p);
  });

  describe("where the file comes from", () => {
    const dir = mkdtempSync(join(tmpdir(), "mailq-config-"));
    const file = join(dir, "custom.yaml");
    writeFileSync(
      file,
      `relays:\n  - name: relay-x\n    host: 127.0.0.1\n    username: root\n    privateKeyPath: /k\n    hostKeyFingerprint: "${FP}"\n`,
    );
    writeFileSync(
      join(dir, "mailq.yaml"),
      `relays:\n  - name: relay-cwd\n    host: 127.0.0.1\n    username: root\n    privateKeyPath: /k\n    hostKeyFingerprint: "${FP}"\n`,
    );
    const empty = mkdtempSync(join(tmpdir(), "mailq-empty-"));

    it("prefers --config, then $MAILQ_CONFIG, then ./mailq.yaml", () => {
      expect(loadConfig({ file: file, env: { MAILQ_CONFIG: "/nope" }, cwd: dir }).relays[0]?.name).toBe(
        "relay-x",
      );
      expect(loadConfig({ env: { MAILQ_CONFIG: file }, cwd: empty }).relays[0]?.name).toBe("relay-x");
      expect(loadConfig({ env: {}, cwd: dir }).relays[0]?.name).toBe("relay-cwd");
    });

    it("falls back to the local relay when there is no file at all", () => {
      const c = loadConfig({ env: {}, cwd: empty });
      expect(c.relays).toEqual([{ kind: "local", name: "local", sudo: false }]);
    });

    it("refuses a named file that does not exist instead of silently probing this machine", () => {
      expect(() => loadConfig({ file: join(empty, "missing.yaml"), env: {}, cwd: empty })).toThrow(
        /does not exist/,
      );
    });

    it("refuses YAML that does not parse", () => {
      const bad = join(dir, "bad.yaml");
      writeFileSync(bad, "relays: [\n");
      expect(() => loadConfig({ file: bad, env: {}, cwd: dir })).toThrow(/not valid YAML/);
    });
  });
});

describe("triage: outbound addresses and blocklist zones", () => {
  it("defaults the zones in the schema; takes outboundIps per relay", () => {
    const c = parseConfig(
      { relays: [{ ...relay, outboundIps: ["192.0.2.1", "2001:db8::25"] }] },
      "mailq.yaml",
      "/etc/mailq",
    );
    expect(c.triage.blocklists).toEqual(["zen.spamhaus.org", "b.barracudacentral.org", "bl.spamcop.net"]);
    expect(c.triage.certWarnDays).toBe(14);
    expect(c.relays[0]).toMatchObject({ outboundIps: ["192.0.2.1", "2001:db8::25"] });
  });

  it("refuses an outbound address that is not an IP and a zone that is not a DNS name", () => {
    const msg = issues({
      relays: [{ ...relay, outboundIps: ["mx1.example.net", "-x"] }],
      triage: { blocklists: ["zen.spamhaus.org; rm -rf /", "-fetc"] },
    });
    expect(msg).toContain("relays.0.outboundIps.0: an IPv4 or IPv6 address the relay sends mail from");
    expect(msg).toContain("relays.0.outboundIps.1: an IPv4 or IPv6 address the relay sends mail from");
    expect(msg).toContain("triage.blocklists.0: a DNS zone such as zen.spamhaus.org");
    expect(msg).toContain("triage.blocklists.1: a DNS zone such as zen.spamhaus.org");
  });
});

describe("Slack environment", () => {
  it("takes HTTP mode with a signing secret, or Socket Mode with an app token", () => {
    expect(parseSlackEnv({ SLACK_BOT_TOKEN: "xoxb-1-2", SLACK_SIGNING_SECRET: "0123456789" }).PORT).toBe(
      3000,
    );
    expect(
      parseSlackEnv({ SLACK_BOT_TOKEN: "xoxb-1-2", SLACK_APP_TOKEN: "xapp-1-2", PORT: "8080" }).PORT,
    ).toBe(8080);
  });
  it.each([
    ["no token", {}, "SLACK_BOT_TOKEN"],
    ["a user token", { SLACK_BOT_TOKEN: "xoxp-1", SLACK_SIGNING_SECRET: "0123456789" }, "SLACK_BOT_TOKEN"],
    ["neither secret nor app token", { SLACK_BOT_TOKEN: "xoxb-1" }, "SLACK_SIGNING_SECRET"],
    [
      "a bad API URL",
      { SLACK_BOT_TOKEN: "xoxb-1", SLACK_SIGNING_SECRET: "0123456789", SLACK_API_URL: "ftp://x" },
      "SLACK_API_URL",
    ],
  ])("refuses %s", (_l, env, path) => {
    expect(() => parseSlackEnv(env as NodeJS.ProcessEnv)).toThrow(path);
  });
});

describe("state directory (store and archive)", () => {
  const etc = mkdtempSync(join(tmpdir(), "mailq-state-"));
  const fileIn = (d: string) => {
    writeFileSync(join(d, "mailq.yaml"), `relays: []\n`);
    return join(d, "mailq.yaml");
  };
  const withRelay = { relays: [relay] };

  it("resolves relative paths in $STATE_DIRECTORY (systemd's StateDirectory=), never next to the file", () => {
    const c = parseConfig(withRelay, "/etc/mailq-bot/mailq.yaml", "/etc/mailq-bot", "/var/lib/mailq-bot");
    expect(c.store.path).toBe("/var/lib/mailq-bot/data/mailq.sqlite");
    expect(c.archive.path).toBe("/var/lib/mailq-bot/data/archive");
    expect(c.relays[0]).toMatchObject({ privateKeyPath: "/etc/mailq-bot/keys/bot" });
  });

  it("picks $STATE_DIRECTORY, else /var/lib/mailq-bot for a file under /etc, else the file's folder", () => {
    expect(stateDirectory({ STATE_DIRECTORY: "/var/lib/mailq-bot:/var/lib/other" }, "/etc/mailq-bot")).toBe(
      "/var/lib/mailq-bot",
    );
    expect(stateDirectory({ STATE_DIRECTORY: "/srv/state" }, "/home/x")).toBe("/srv/state");
    expect(stateDirectory({}, "/etc/mailq-bot")).toBe("/var/lib/mailq-bot");
    expect(stateDirectory({ STATE_DIRECTORY: "" }, "/etc")).toBe("/var/lib/mailq-bot");
    expect(stateDirectory({}, "/home/ops/mailq")).toBe("/home/ops/mailq");
  });

  it("loadConfig uses it, and keeps absolute paths as written", () => {
    fileIn(etc);
    writeFileSync(
      join(etc, "abs.yaml"),
      `relays: [{name: r, host: h, username: u, privateKeyPath: k, hostKeyFingerprint: "${FP}"}]\nstore: {path: /srv/x.sqlite}\n`,
    );
    const c = loadConfig({ file: join(etc, "abs.yaml"), env: { STATE_DIRECTORY: "/srv/state" }, cwd: "/" });
    expect(c.store.path).toBe("/srv/x.sqlite");
    expect(c.archive.path).toBe("/srv/state/data/archive");
    expect(
      loadConfig({ env: { STATE_DIRECTORY: "/srv/state" }, cwd: mkdtempSync(join(tmpdir(), "e-")) }).store
        .path,
    ).toBe("/srv/state/data/mailq.sqlite");
  });
});

describe("empty variables mean unset", () => {
  it("an empty SLACK_APP_TOKEN= is HTTP mode, not an invalid token; an empty PORT= is the default", () => {
    const env = parseSlackEnv({
      SLACK_BOT_TOKEN: "xoxb-1-2",
      SLACK_SIGNING_SECRET: "0123456789",
      SLACK_APP_TOKEN: "",
      SLACK_API_URL: "",
      PORT: "",
    });
    expect(env.SLACK_APP_TOKEN).toBeUndefined();
    expect(env.PORT).toBe(3000);
  });
});
