import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { subcommands } from "../../commands/index.js";
import { type Config, parseConfig } from "../../src/config.js";
import { RunnerPool } from "../../src/relay/collect.js";
import { createSlackApp } from "../../src/slack/app.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { inflight } from "../../src/util/inflight.js";
import { closedRelayEntries } from "../helpers/config.js";
import { type FakeSlack, startFakeSlack } from "../helpers/slack.js";

// Slack's Socket Mode, on loopback: apps.connections.open hands out a ws:// URL, the server
// says hello, sends envelopes, and expects each acknowledged by envelope_id.
let slack: FakeSlack;
let wss: WebSocketServer;
let socket: WebSocket;
let app: ReturnType<typeof createSlackApp>;
const acks = new Map<string, (payload: Record<string, unknown>) => void>();
let opensSeen = 0;

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
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const connected = new Promise<void>((resolve) => {
    wss.on("connection", (ws) => {
      socket = ws;
      ws.on("message", (raw) => {
        const msg = JSON.parse(String(raw));
        acks.get(msg.envelope_id)?.(msg.payload ?? {});
      });
      ws.send(
        JSON.stringify({
          type: "hello",
          num_connections: 1,
          debug_info: { host: "lab" },
          connection_info: { app_id: "AMAILQ" },
        }),
      );
      resolve();
    });
  });
  slack = await startFakeSlack();
  slack.on("apps.connections.open", (c) => {
    opensSeen++;
    expect(c.headers.authorization).toBe("Bearer xapp-1-lab");
    return { body: { ok: true, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link` } };
  });
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
  await connected;
});

afterAll(async () => {
  await app?.stop().catch(() => {});
  for (const h of held) h.destroy();
  await new Promise((r) => silent?.close(r));
  for (const c of wss?.clients ?? []) c.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
  await slack?.close();
});

function slashEnvelope(id: string, text: string): string {
  return JSON.stringify({
    envelope_id: id,
    type: "slash_commands",
    accepts_response_payload: true,
    payload: {
      token: "unused",
      team_id: "TLAB",
      channel_id: "CINCIDENT",
      user_id: "UALICE",
      command: "/mailq",
      text,
      api_app_id: "AMAILQ",
      response_url: slack.responseUrl(id),
      trigger_id: "1.2.3",
    },
  });
}

function ackOf(id: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    acks.set(id, resolve);
    setTimeout(() => reject(new Error(`no ack for ${id}`)), 5000);
  });
}

describe("Socket Mode (SLACK_APP_TOKEN set)", () => {
  it("opens the connection through SLACK_API_URL with the app token", () => {
    expect(opensSeen).toBe(1);
  });

  it("acknowledges a slash command envelope with the answer", async () => {
    const ack = ackOf("env-help");
    socket.send(slashEnvelope("env-help", "help"));
    const payload = await ack;
    expect(payload.response_type).toBe("ephemeral");
    expect(String(payload.text)).toContain("/mailq status [relay]");
  });

  it("refuses garbage over the socket just as over HTTP, running nothing", async () => {
    const ack = ackOf("env-bad");
    socket.send(slashEnvelope("env-bad", "status relay-z"));
    expect(String((await ack).text)).toContain("unknown relay; known relays: relay-a, relay-hang");
    expect(slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  // Last: it stops the app.
  it("a command still running after its ack is waited for once the socket closes", async () => {
    const ack = ackOf("env-hang");
    socket.send(slashEnvelope("env-hang", "status relay-hang"));
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
