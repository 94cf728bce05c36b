import { App, LogLevel } from "@slack/bolt";
import type { Command } from "../chat/command.js";
import type { Config, SlackEnv } from "../config.js";
import type { JsonLogger } from "../log/logger.js";
import { observabilityRoutes } from "../metrics/http.js";
import { type MailqMetrics, mailqMetrics } from "../metrics/mailq.js";
import type { RunnerPool } from "../relay/collect.js";
import type { Store } from "../store/store.js";
import type { Inflight } from "../util/inflight.js";
import type { WatchScheduler } from "../watch/scheduler.js";
import { accessChecker } from "./access.js";
import { slackChat } from "./chat.js";
import { webClientOptions } from "./client.js";
import { registerActions } from "./listeners/actions/index.js";
import { registerCommands } from "./listeners/commands/index.js";
import { registerViews } from "./listeners/views/index.js";
import { boltLogger } from "./logger.js";

export interface SlackAppOptions {
  config: Config;
  env: SlackEnv;
  pool: RunnerPool;
  store: Store;
  nowMs: () => number;
  subcommands: Command[];
  /** Runs /mailq watch; without it the watch subcommand says watches are off. */
  watches?: WatchScheduler;
  /** Structured JSON logs, Bolt's included; Bolt's console logger when absent. */
  logger?: JsonLogger;
  /** Served at /metrics (HTTP mode: on Bolt's port); the process-wide metrics when absent. */
  metrics?: MailqMetrics;
  startedAtMs?: number;
  /** Every request's whole run is tracked here, so a stop can wait for what is running. */
  inflight?: Inflight;
}

/** The composition root for Slack: transport from the environment, then the listeners. */
export function createSlackApp(o: SlackAppOptions): InstanceType<typeof App> {
  const clientOptions = webClientOptions(o.env.SLACK_API_URL);
  const metrics = o.metrics ?? mailqMetrics;
  metrics.watchStore(o.store);
  const logging = o.logger ? { logger: boltLogger(o.logger) } : {};
  const app = o.env.SLACK_APP_TOKEN
    ? new App({
        token: o.env.SLACK_BOT_TOKEN,
        appToken: o.env.SLACK_APP_TOKEN,
        socketMode: true,
        clientOptions,
        // The Socket Mode client opens its connection through the Web API too.
        installerOptions: { clientOptions },
        logLevel: LogLevel.INFO,
        ...logging,
      })
    : new App({
        token: o.env.SLACK_BOT_TOKEN,
        signingSecret: o.env.SLACK_SIGNING_SECRET as string,
        clientOptions,
        logLevel: LogLevel.INFO,
        ...logging,
        // /metrics and /healthz on the same port as /slack/events (Socket Mode: see cli.ts).
        customRoutes: observabilityRoutes({
          store: o.store,
          metrics,
          logger: o.logger,
          startedAtMs: o.startedAtMs ?? o.nowMs(),
          nowMs: o.nowMs,
        }),
      });
  // First of all middleware: a request counts as running until its listener returns, long after the ack.
  const running = o.inflight;
  if (running)
    app.use(async ({ next }) => {
      await running.track(next());
    });
  // Checked on every request, before anything is read.
  const access = accessChecker({
    config: o.config,
    store: o.store,
    chat: slackChat(app.client),
    whoAmI: () => app.client.auth.test(),
    nowMs: o.nowMs,
  });
  const deps = { ...o, access };
  registerCommands(app, deps);
  registerActions(app, deps);
  registerViews(app, deps);
  return app;
}
