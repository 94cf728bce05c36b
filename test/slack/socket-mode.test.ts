import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subcommands } from "../../commands/index.js";
import { type Config, parseConfig } from "../../src/config.js";
import { RunnerPool } from "../../src/relay/collect.js";
import { createSlackApp } from "../../src/slack/app.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { inflight } from "../../src/util/inflight.js";
import { closedRelayEntries } from "../helpers/config.js";
import { type FakeSlack, startFakeSlack } from "../helpers/slack.js";
import { type FakeSocketMode, slashEnvelope, startFakeSocketMode } from "../helpers/socket-mode.js";

let slack: FakeSlack;
let sm: FakeSocketMode;
let app: ReturnType<typeof createSlackApp>;

let config: Config;
const running = inflight();
/** relay-hang: a loopback port that takes the TCP connection and never says a word of SSH. */
let silent: Server;
const held = new Set<Socket>();

beforeAll(async () => {
  silent = createServer((s) => held.add(s));
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  // A key the SSH client can parse, so the connect gets as far as waiting for the relay's banner.
  const keyPath = join(mkdtempSync(join(tmpdir(), "mailq-socket-")), "bot_rsa");
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  writeFileSync(keyPath, privateKey, { mode: 0o600 });
  const [a, b] = closedRelayEntries(["relay-a", "relay-hang"]);
  config = parseConfig(
    {
      relays: [a, { ...b, port: (silent.address() as AddressInfo).port, privateKeyPath: keyPath }],
      probes: { timeout: "60s" },
    },
    "test",
    "/tmp",
  );
  slack = await startFakeSlack();
  sm = await startFakeSocketMode(slack);
  app = createSlackApp({
    config,
    env: {
      SLACK_BOT_TOKEN: "xoxb-lab-token",
      SLACK_APP_TOKEN: "xapp-1-lab",
      SLACK_API_URL: slack.apiUrl,
      PORT: 0,
    },
    pool: new RunnerPool(),
    store: openSqliteStore(":memory:"),
    nowMs: Date.now,
    subcommands,
    inflight: running,
  });
  await app.start();
  await sm.connected;
});

afterAll(async () => {
  await app?.stop().catch(() => {});
  for (const h of held) h.destroy();
  await new Promise((r) => silent?.close(r));
  await sm?.close();
  await slack?.close();
});

describe("Socket Mode (SLACK_APP_TOKEN set)", () => {
  it("opens the connection through SLACK_API_URL with the app token", () => {
    expect(sm.opens).toEqual(["Bearer xapp-1-lab"]);
  });

  it("acknowledges a slash command envelope with the answer", async () => {
    const ack = sm.ackOf("env-help");
    sm.send(slashEnvelope("env-help", "help", slack.responseUrl("env-help")));
    const payload = await ack;
    expect(payload.response_type).toBe("ephemeral");
    expect(String(payload.text)).toContain("/mailq status [relay]");
  });

  it("refuses garbage over the socket just as over HTTP, running nothing", async () => {
    const ack = sm.ackOf("env-bad");
    sm.send(slashEnvelope("env-bad", "status relay-z", slack.responseUrl("env-bad")));
    expect(String((await ack).text)).toContain("unknown relay; known relays: relay-a, relay-hang");
    expect(slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  // Last: it stops the app.
  it("a command still running after its ack is waited for once the socket closes", async () => {
    const ack = sm.ackOf("env-hang");
    sm.send(slashEnvelope("env-hang", "status relay-hang", slack.responseUrl("env-hang")));
    expect(String((await ack).text)).toMatch(/^Probing relay-hang/);
    while (held.size === 0) await new Promise((r) => setTimeout(r, 10));
    expect(running.size).toBe(1);

    await app.stop();
    let left: number | undefined;
    const drained = running.drain(config.probes.timeout).then((n) => {
      left = n;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(left).toBeUndefined();
    // The relay hangs up: the status ends, and says so in the channel, before the drain is over.
    for (const h of held) h.destroy();
    await drained;
    expect(left).toBe(0);
    const said = slack.calls.filter(
      (c) => c.body.channel === "CINCIDENT" && /relay-hang/.test(String(c.body.text)),
    );
    expect(said.length).toBeGreaterThan(0);
  });
});
