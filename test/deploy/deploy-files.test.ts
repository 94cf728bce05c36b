/** deploy/: one Slack app story (manifests and env sample agree), and the unit's paths are writable under it. */
import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseConfig, parseSlackEnv, stateDirectory } from "../../src/config.js";
import { healthzUrl } from "../../src/metrics/http.js";
import { BOT_SCOPES } from "../../src/slack/scopes.js";
import { parseDuration } from "../../src/util/duration.js";

const REPO = new URL("../../", import.meta.url).pathname;
const read = (p: string) => readFileSync(`${REPO}${p}`, "utf8");
const manifest = (p: string) => parse(read(p));
const urls = (o: unknown): string[] =>
  typeof o === "object" && o !== null
    ? Object.entries(o).flatMap(([k, v]) =>
        (k === "url" || k === "request_url") && typeof v === "string" ? [v] : urls(v),
      )
    : [];

describe("the Slack app manifests", () => {
  it("Socket Mode by default, with no request URL anywhere (nothing for Slack to call)", () => {
    const m = manifest("deploy/slack-app-manifest.yaml");
    expect(m.settings.socket_mode_enabled).toBe(true);
    expect(urls(m)).toEqual([]);
    expect(m.settings.interactivity.is_enabled).toBe(true);
  });

  it("the HTTP variant sends the command and the buttons to /slack/events, with Socket Mode off", () => {
    const m = manifest("deploy/slack-app-manifest.http.yaml");
    expect(m.settings.socket_mode_enabled).toBe(false);
    expect(urls(m)).toHaveLength(2);
    for (const u of urls(m)) expect(u).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
  });

  it.each(["deploy/slack-app-manifest.yaml", "deploy/slack-app-manifest.http.yaml"])(
    "%s grants exactly the scopes doctor checks, and /mailq",
    (p) => {
      const m = manifest(p);
      expect([...m.oauth_config.scopes.bot].sort()).toEqual(Object.keys(BOT_SCOPES).sort());
      expect(m.features.slash_commands.map((c: { command: string }) => c.command)).toEqual(["/mailq"]);
    },
  );
});

describe(".env.sample", () => {
  const sample = parseEnv(read(".env.sample"));

  it("is Socket Mode as it stands, like the default manifest, with /healthz on the metrics port", () => {
    const env = parseSlackEnv(sample);
    expect(env.SLACK_APP_TOKEN).toBeDefined();
    expect(healthzUrl(sample)).toBe("http://127.0.0.1:9464/healthz");
  });

  it("switches to HTTP by emptying SLACK_APP_TOKEN and filling the signing secret", () => {
    const env = parseSlackEnv({ ...sample, SLACK_APP_TOKEN: "", SLACK_SIGNING_SECRET: "0123456789abcdef" });
    expect(env.SLACK_APP_TOKEN).toBeUndefined();
    expect(healthzUrl({ ...sample, SLACK_APP_TOKEN: "" })).toBe("http://127.0.0.1:3000/healthz");
  });
});

describe("the systemd unit", () => {
  const unit = read("deploy/mailq-bot.service");
  const directives = (name: string) =>
    unit
      .split("\n")
      .filter((l) => l.startsWith(`${name}=`))
      .map((l) => l.slice(name.length + 1));

  it("gives the bot a state directory and nothing else to write", () => {
    expect(directives("StateDirectory")).toEqual(["mailq-bot"]);
    expect(directives("ProtectSystem")).toEqual(["strict"]);
    expect(directives("ReadWritePaths")).toEqual([]);
  });

  it("under it, the example configuration's store and archive land in the state directory, not /etc", () => {
    const env = { STATE_DIRECTORY: `/var/lib/${directives("StateDirectory")[0]}` };
    const file = /MAILQ_CONFIG=(\S+)/.exec(directives("Environment").join(" "))?.[1] ?? "";
    expect(file).toBe("/etc/mailq-bot/mailq.yaml");
    const text = read("deploy/mailq.example.yaml").replaceAll(
      "SHA256:REPLACE_WITH_THE_RELAYS_HOST_KEY_FINGERPRINT_",
      `SHA256:${"A".repeat(43)}`,
    );
    const raw = parse(text);
    for (const r of [raw, { ...raw, store: undefined, archive: undefined }]) {
      const c = parseConfig(
        JSON.parse(JSON.stringify(r)),
        file,
        "/etc/mailq-bot",
        stateDirectory(env, "/etc/mailq-bot"),
      );
      expect(c.store.path.startsWith("/var/lib/mailq-bot/")).toBe(true);
      expect(c.archive.path.startsWith("/var/lib/mailq-bot/")).toBe(true);
    }
  });

  it("waits on stop longer than the bot's grace for running commands, with the example's and the default", () => {
    const stopSec = directives("TimeoutStopSec");
    expect(stopSec).toHaveLength(1);
    const stopMs = parseDuration(`${stopSec[0]}s`) ?? 0;
    expect(stopMs).toBeGreaterThan(0);
    const raw = parse(
      read("deploy/mailq.example.yaml").replaceAll(
        "REPLACE_WITH_THE_RELAYS_HOST_KEY_FINGERPRINT_",
        "A".repeat(43),
      ),
    );
    const example = parseConfig(JSON.parse(JSON.stringify(raw)), "example", "/etc/mailq-bot");
    const byDefault = parseConfig({ ...raw, slack: undefined }, "example", "/etc/mailq-bot");
    expect(example.slack.shutdownGrace).toBeLessThan(stopMs);
    expect(byDefault.slack.shutdownGrace).toBeLessThan(stopMs);
  });
});
