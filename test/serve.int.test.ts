/**
 * `mailq-bot serve` stopping: SIGTERM while a /mailq status is still reading a relay. The relay's
 * SSH goes through a loopback door the test holds shut, so the command is certainly running when
 * the signal arrives; the process must finish it (card posted, snapshot stored) before it exits,
 * and must give up after `slack.shutdownGrace` when the work never ends.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { type AddressInfo, createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { type Config, parseConfig } from "../src/config.js";
import { openSqliteStore } from "../src/store/sqlite/index.js";
import { SIGNING_SECRET } from "./helpers/bot.js";
import { HARNESS_MS } from "./helpers/deadlines.js";
import { labRelayEntry } from "./helpers/lab-relay.js";
import { type ServeProcess, spawnServe, until as untilLogged } from "./helpers/serve-process.js";
import { type FakeSlack, postSigned, slashCommandBody, startFakeSlack } from "./helpers/slack.js";
import { slashEnvelope, startFakeSocketMode } from "./helpers/socket-mode.js";
import { completeStatusCard } from "./helpers/status-card.js";
import type { LabRelay } from "./lab/lab.js";

const lab = inject("lab");
const relayA = lab.relays.find((r) => r.name === "relay-a") as LabRelay;

/** A TCP door to the lab relay's sshd: connections wait in front of it until the test opens it. */
interface Door {
  port: number;
  waiting: number;
  open(): void;
  close(): Promise<void>;
}

async function door(to: { host: string; port: number }): Promise<Door> {
  const held: Socket[] = [];
  const all = new Set<Socket>();
  let opened = false;
  const through = (client: Socket) => {
    const upstream = createConnection(to.port, to.host);
    all.add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  };
  const server: Server = createServer((client) => {
    all.add(client);
    client.pause();
    if (opened) through(client);
    else held.push(client);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    get waiting() {
      return held.length;
    },
    open() {
      opened = true;
      for (const c of held.splice(0)) through(c);
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of all) s.destroy();
        server.close(() => r());
      }),
  };
}

interface Served extends ServeProcess {
  config: Config;
  storePath: string;
}

let slack: FakeSlack;
const doors: Door[] = [];
const processes: ServeProcess[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
});

afterEach(() => {
  for (const { proc } of processes.splice(0))
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
});

afterAll(async () => {
  for (const d of doors) await d.close();
  await slack?.close();
});

/** A real `serve` (the CLI, as deployed, HTTP mode unless `env` says otherwise) whose one relay is the lab relay behind `d`. */
function serve(d: Door, settings: Record<string, unknown>, env: Record<string, string> = {}): Served {
  const dir = mkdtempSync(join(tmpdir(), "mailq-serve-stop-"));
  const raw = {
    relays: [labRelayEntry(relayA, { name: "relay-held", port: d.port })],
    store: { path: join(dir, "mailq.sqlite") },
    archive: { path: join(dir, "archive") },
    ...settings,
  };
  writeFileSync(join(dir, "mailq.yaml"), stringify(raw));
  const served: Served = {
    ...spawnServe(join(dir, "mailq.yaml"), {
      HOME: dir,
      SLACK_BOT_TOKEN: "xoxb-serve-stop",
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: "0",
      ...env,
    }),
    config: parseConfig(raw, "test", dir),
    storePath: join(dir, "mailq.sqlite"),
  };
  processes.push(served);
  return served;
}

const until = <T>(s: Served, f: () => T | undefined | false, timeoutMs: number, what: string) =>
  untilLogged(f, timeoutMs, what, () => s.log.map((l) => l.msg));

/** The exit code, or "still running" once `ms` has passed. */
function exitWithin(s: Served, ms: number): Promise<number | null | "still running"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"still running">((r) => {
    timer = setTimeout(() => r("still running"), ms);
  });
  return Promise.race([s.exited, late]).finally(() => clearTimeout(timer));
}

/** serve's "started" line. */
const startedLine = (s: Served) =>
  // tsx compiles the CLI on the way up: the harness's share, not the bot's.
  until(s, () => s.log.find((l) => l.msg === "mailq-bot started"), 6 * HARNESS_MS, "start");

/** serve is up: its port, from the "started" line (PORT=0). */
async function started(s: Served): Promise<string> {
  return `http://127.0.0.1:${(await startedLine(s)).port}/slack/events`;
}

/** The command's SSH connection waits at the door: it is certainly running. */
const heldAtTheDoor = (s: Served, d: Door) =>
  until(s, () => d.waiting > 0, s.config.probes.timeout, "the relay connection at the door");

/** /mailq status acked, and its SSH connection waiting at the door: the command is running. */
async function statusHeldAtTheDoor(s: Served, d: Door, url: string, channel: string) {
  const body = slashCommandBody({
    text: "status",
    response_url: slack.responseUrl(channel),
    channel_id: channel,
  });
  const r = await postSigned(url, body, { secret: SIGNING_SECRET });
  expect(r.status).toBe(200);
  await heldAtTheDoor(s, d);
}

/** SIGTERM: serve's "stopping" log line. */
async function sigterm(s: Served) {
  s.proc.kill("SIGTERM");
  return until(s, () => s.log.find((l) => l.msg === "mailq-bot stopping"), HARNESS_MS, "stopping");
}

/** A serve whose /mailq status is held at the door, then SIGTERM: its "stopping" log line. */
async function sigtermWhileHeld(settings: Record<string, unknown>, channel: string) {
  const d = await door(relayA);
  doors.push(d);
  const s = serve(d, settings);
  const url = await started(s);
  await statusHeldAtTheDoor(s, d, url, channel);
  return { d, s, stopping: await sigterm(s) };
}

describe("mailq-bot serve on SIGTERM", () => {
  it("finishes a command already running before it closes the relays and the store", async () => {
    const { d, s, stopping } = await sigtermWhileHeld({ slack: { shutdownGrace: "2m" } }, "CSTOP1");
    expect(stopping).toMatchObject({ signal: "SIGTERM", graceMs: 120_000 });
    expect(stopping.running).toBeGreaterThanOrEqual(1);
    // Stopping, and not gone: it waits for the status it is running.
    expect(s.proc.exitCode).toBeNull();
    d.open();

    const { card } = await completeStatusCard(slack, "CSTOP1", s.config);
    expect(String(card.body.text)).toMatch(/^relay-held: \d+ deferred · \d+ on hold/m);
    expect(await s.exited).toBe(0);
    expect(s.log.filter((l) => l.level === "error" || l.level === "warn")).toEqual([]);
    // Stored before the store closed.
    const store = openSqliteStore(s.storePath);
    try {
      expect(await store.snapshots.latest("relay-held", 1)).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it("gives up after slack.shutdownGrace, says so, and exits", async () => {
    const { s } = await sigtermWhileHeld(
      { slack: { shutdownGrace: "1s" }, probes: { timeout: "30s" } },
      "CSTOP2",
    );
    // The door stays shut: the status would run until the probe timeout (30s) without the grace.
    expect(await exitWithin(s, s.config.slack.shutdownGrace + HARNESS_MS)).toBe(0);
    expect(s.log.find((l) => l.msg === "mailq-bot stopping with work still running")).toMatchObject({
      level: "warn",
      running: 1,
      graceMs: 1000,
    });
    expect(slack.calls.filter((c) => c.body.channel === "CSTOP2")).toEqual([]);
  });

  it("a second signal while it waits stops it at once", async () => {
    const { s } = await sigtermWhileHeld(
      { slack: { shutdownGrace: "2m" }, probes: { timeout: "30s" } },
      "CSTOP3",
    );
    s.proc.kill("SIGINT");
    expect(await exitWithin(s, HARNESS_MS)).toBe(1);
    expect(s.log.find((l) => l.msg === "mailq-bot stopping now, without waiting")).toMatchObject({
      level: "warn",
      signal: "SIGINT",
    });
  });

  it("in Socket Mode, /healthz answers 503 stopping while it drains, then the command finishes", async () => {
    const sm = await startFakeSocketMode(slack);
    try {
      const d = await door(relayA);
      doors.push(d);
      const s = serve(
        d,
        { slack: { shutdownGrace: "2m" } },
        { SLACK_APP_TOKEN: "xapp-1-serve", METRICS_PORT: "0" },
      );
      const healthz = String((await startedLine(s)).metrics).replace(/\/metrics$/, "/healthz");
      await sm.connected;
      expect((await fetch(healthz)).status).toBe(200);
      const ack = sm.ackOf("env-stop4");
      sm.send(slashEnvelope("env-stop4", "status", slack.responseUrl("env-stop4"), "CSTOP4"));
      expect(await ack).toMatchObject({ text: "Probing relay-held (read-only)…" });
      await heldAtTheDoor(s, d);
      expect(await sigterm(s)).toMatchObject({ running: 1 });

      const draining = await fetch(healthz);
      expect(draining.status).toBe(503);
      expect(await draining.json()).toMatchObject({ ok: false, stopping: true, store: { reachable: true } });
      d.open();
      const { card } = await completeStatusCard(slack, "CSTOP4", s.config);
      expect(String(card.body.text)).toMatch(/^relay-held: \d+ deferred · \d+ on hold/m);
      expect(await s.exited).toBe(0);
    } finally {
      await sm.close();
    }
  });
});
