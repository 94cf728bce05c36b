import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log/logger.js";
import {
  observabilityRoutes,
  parseMetricsEnv,
  startObservabilityServer,
  VERSION,
} from "../../src/metrics/http.js";
import { createMailqMetrics, mailqMetrics } from "../../src/metrics/mailq.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { type RunningBot, SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { closedRelaysConfig } from "../helpers/config.js";
import { type FakeSlack, postSigned, slashCommandBody, startFakeSlack } from "../helpers/slack.js";
import { newApproval } from "../store/contract.js";
import { parseExposition, value } from "./exposition.js";

// A relay on a closed loopback port: status finds it down, quickly, without leaving 127.0.0.1.
const config = closedRelaysConfig(["relay-closed"], { probes: { timeout: "3s" } });

let slack: FakeSlack;
let bot: RunningBot;
const lines: string[] = [];
const base = () => bot.url.replace(/\/slack\/events$/, "");

beforeAll(async () => {
  slack = await startFakeSlack();
  bot = await startBot({
    config,
    apiUrl: slack.apiUrl,
    meteredPool: true,
    logger: createLogger({ write: (l) => lines.push(l) }),
  });
});
afterAll(async () => {
  await bot?.stop();
  await slack?.close();
});

describe("/metrics and /healthz on Bolt's port (HTTP mode)", () => {
  it("serves the exposition with every metric family declared", async () => {
    const res = await fetch(`${base()}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const e = parseExposition(await res.text());
    for (const [name, type] of [
      ["mailq_queue_messages", "gauge"],
      ["mailq_deferral_reason_recipients", "gauge"],
      ["mailq_probe_duration_seconds", "histogram"],
      ["mailq_probe_failures_total", "counter"],
      ["mailq_relay_up", "gauge"],
      ["mailq_approvals_pending", "gauge"],
      ["mailq_approvals_executed_total", "counter"],
    ] as const)
      expect(e.types.get(name), name).toBe(type);
  });

  it("counts pending approvals from the store at scrape time", async () => {
    const scrape = async () =>
      value(parseExposition(await (await fetch(`${base()}/metrics`)).text()), "mailq_approvals_pending");
    expect(await scrape()).toBe(0);
    const a = await bot.store.approvals.create(newApproval());
    await bot.store.approvals.create(newApproval());
    expect(await scrape()).toBe(2);
    await bot.store.approvals.transition(a.id, "pending", a.version, { status: "rejected" });
    expect(await scrape()).toBe(1);
  });

  it("after /mailq status on an unreachable relay: up 0 and one connect failure", async () => {
    const before =
      value(parseExposition(await mailqMetrics.render()), "mailq_probe_failures_total", {
        relay: "relay-closed",
        probe: "connect",
      }) ?? 0;
    const r = await postSigned(
      bot.url,
      slashCommandBody({ text: "status", response_url: slack.responseUrl("m-1"), channel_id: "CMET" }),
      { secret: SIGNING_SECRET },
    );
    expect(r.status).toBe(200);
    await slack.waitFor("chat.postMessage", (c) => c.body.channel === "CMET", 20_000);
    const e = parseExposition(await (await fetch(`${base()}/metrics`)).text());
    expect(value(e, "mailq_relay_up", { relay: "relay-closed" })).toBe(0);
    expect(value(e, "mailq_probe_failures_total", { relay: "relay-closed", probe: "connect" })).toBe(
      before + 1,
    );
    expect(value(e, "mailq_queue_messages", { relay: "relay-closed", queue: "deferred" })).toBeUndefined();
  });

  it("/healthz: ok with the store's kind, version and uptime", async () => {
    const res = await fetch(`${base()}/healthz`);
    expect(res.status).toBe(200);
    const h = (await res.json()) as { uptimeSeconds: number };
    expect(h).toMatchObject({ ok: true, store: { kind: "sqlite", reachable: true }, version: VERSION });
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(h.uptimeSeconds).toBeGreaterThanOrEqual(0);
  });

  it("Bolt's own messages come out as JSON lines through the bot's logger", async () => {
    const r = await postSigned(
      bot.url,
      slashCommandBody({ text: "status", response_url: "http://127.0.0.1:1/" }),
      {
        secret: "not-the-secret",
      },
    );
    expect(r.status).toBe(401);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.every((l) => l.endsWith("\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
    expect(parsed).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: expect.stringMatching(/verify/i),
        time: expect.any(String),
      }),
    );
  });
});

describe("the Socket Mode observability server", () => {
  it("serves /metrics and /healthz on its own port, 503 when the store does not answer", async () => {
    const store = openSqliteStore(":memory:");
    const metrics = createMailqMetrics();
    metrics.watchStore(store);
    const env = parseMetricsEnv({ METRICS_PORT: "0" });
    expect(env.METRICS_HOST).toBe("127.0.0.1");
    let stopping = false;
    const srv = await startObservabilityServer(
      observabilityRoutes({ store, metrics, startedAtMs: Date.now() - 5_000, stopping: () => stopping }),
      { port: env.METRICS_PORT, host: env.METRICS_HOST },
    );
    try {
      const url = `http://127.0.0.1:${srv.port}`;
      const h = (await (await fetch(`${url}/healthz`)).json()) as { uptimeSeconds: number };
      expect(h).toMatchObject({ ok: true, store: { reachable: true } });
      expect(h.uptimeSeconds).toBeGreaterThanOrEqual(5);
      expect(
        value(parseExposition(await (await fetch(`${url}/metrics`)).text()), "mailq_approvals_pending"),
      ).toBe(0);
      expect((await fetch(`${url}/nope`)).status).toBe(404);
      expect((await fetch(`${url}/metrics`, { method: "POST" })).status).toBe(405);
      // Draining before exit: not healthy, though the store answers, and it says why.
      stopping = true;
      const draining = await fetch(`${url}/healthz`);
      expect(draining.status).toBe(503);
      expect(await draining.json()).toMatchObject({ ok: false, stopping: true, store: { reachable: true } });
      stopping = false;
      await store.close();
      const down = await fetch(`${url}/healthz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ ok: false, store: { kind: "sqlite", reachable: false } });
      // /metrics still answers without the store's numbers.
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
    } finally {
      await srv.close();
    }
  });

  it("refuses a bad METRICS_PORT or METRICS_HOST, naming the variable", () => {
    expect(() => parseMetricsEnv({ METRICS_PORT: "http" })).toThrow(/METRICS_PORT/);
    expect(() => parseMetricsEnv({ METRICS_HOST: "example.com" })).toThrow(/METRICS_HOST/);
    expect(parseMetricsEnv({ METRICS_HOST: "0.0.0.0", METRICS_PORT: "9100" })).toEqual({
      METRICS_HOST: "0.0.0.0",
      METRICS_PORT: 9100,
    });
  });
});
