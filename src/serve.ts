import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { subcommands } from "../commands/index.js";
import type { CliIo } from "./cli-io.js";
import { type Config, parseSlackEnv } from "./config.js";
import { describeError } from "./errors.js";
import { createLogger, parseLevel } from "./log/logger.js";
import { observabilityRoutes, parseMetricsEnv, startObservabilityServer, VERSION } from "./metrics/http.js";
import { MeteredRunnerPool, mailqMetrics, registerRelays } from "./metrics/mailq.js";
import { createSlackApp } from "./slack/app.js";
import { appChat } from "./slack/chat.js";
import { createWatchScheduler } from "./slack/watches.js";
import { startLeadership } from "./store/leader.js";
import { openStore } from "./store/open.js";
import { startExpirySweeper } from "./usecases/expiry.js";
import { inflight } from "./util/inflight.js";

/** `mailq-bot serve`: the Slack app, the watch scheduler under a lease, approvals' expiry, /metrics. */
export async function serve(config: Config, io: CliIo): Promise<number> {
  const startedAtMs = io.nowMs();
  const env = parseSlackEnv(io.env);
  const metricsEnv = env.SLACK_APP_TOKEN ? parseMetricsEnv(io.env) : undefined;
  const logger = createLogger({
    level: parseLevel(io.env.LOG_LEVEL),
    write: io.stderr,
    nowMs: io.nowMs,
    fields: { service: "mailq-bot", pid: process.pid },
  });
  const pool = new MeteredRunnerPool(mailqMetrics, io.env, config.probes.compression, {
    maxConnections: config.probes.maxConnections,
  });
  registerRelays(mailqMetrics, config);
  const store = await openStore(config, io.env);
  // One replica runs the watch schedules; another takes over within the lease's TTL.
  const leadership = startLeadership({
    leases: store.leases,
    name: "watch-scheduler",
    holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    ttlMs: config.watch.leaseTtl,
    onChange: (leading) =>
      logger.log("info", leading ? "watch scheduler lease taken" : "watch scheduler lease lost"),
    onError: (e) => logger.log("warn", "watch lease", { error: describeError(e) }),
  });
  const watches = createWatchScheduler({
    config,
    env,
    store,
    pool,
    nowMs: io.nowMs,
    isLeader: () => leadership.isLeader(),
    onError: (e) => logger.log("error", "watch update failed", { error: describeError(e) }),
  });
  const running = inflight();
  const app = createSlackApp({
    inflight: running,
    config,
    env,
    pool,
    store,
    nowMs: io.nowMs,
    subcommands,
    logger,
    startedAtMs,
    watches,
  });
  const started = await app.start(env.PORT);
  // The port really listened on (PORT=0 lets the system choose); Socket Mode listens on none.
  const address = (started as { address?: () => unknown } | undefined)?.address?.();
  const port = address && typeof address === "object" ? (address as AddressInfo).port : env.PORT;
  watches.start();
  // Pending approval requests past their expiry lose their buttons, pressed or not.
  const expiry = startExpirySweeper(
    { config, pool, store, nowMs: io.nowMs, chat: appChat(app) },
    { onError: (e) => logger.log("warn", "approval expiry sweep failed", { error: describeError(e) }) },
  );
  let stopping = false;
  // Socket Mode has no HTTP server: /metrics and /healthz get their own port.
  const observability = metricsEnv
    ? await startObservabilityServer(
        observabilityRoutes({
          store,
          metrics: mailqMetrics,
          logger,
          startedAtMs,
          nowMs: io.nowMs,
          // While the socket is closed and work drains, the port stays open: say so.
          stopping: () => stopping,
        }),
        { port: metricsEnv.METRICS_PORT, host: metricsEnv.METRICS_HOST },
      )
    : undefined;
  logger.log("info", "mailq-bot started", {
    transport: env.SLACK_APP_TOKEN ? "socket-mode" : "http",
    port: env.SLACK_APP_TOKEN ? undefined : port,
    metrics: observability
      ? `http://${metricsEnv?.METRICS_HOST}:${observability.port}/metrics`
      : `http://:${env.PORT}/metrics`,
    store: store.kind,
    relays: config.relays.map((r) => r.name),
    config: config.source,
    version: VERSION,
  });
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.log("warn", "mailq-bot stopping now, without waiting", { signal });
      process.exit(1);
    }
    stopping = true;
    const graceMs = config.slack.shutdownGrace;
    logger.log("info", "mailq-bot stopping", { signal, running: running.size, graceMs });
    // No new work: no requests, no sweeps, no watch ticks. What already runs finishes (within the grace)
    // while the relays' connections and the store are still open: an approved change keeps its audit line.
    await app.stop().catch(() => {});
    running.track(expiry.stop());
    running.track(watches.stop());
    const left = await running.drain(graceMs);
    if (left > 0)
      logger.log("warn", "mailq-bot stopping with work still running", {
        running: left,
        graceMs,
        next: "changes left running are marked failed, and said so, by the next start's expiry sweep",
      });
    await leadership.stop();
    await observability?.close();
    await pool.closeAll();
    await store.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return new Promise(() => {});
}
