import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { subcommands } from "../../commands/index.js";
import type { Config } from "../../src/config.js";
import type { JsonLogger } from "../../src/log/logger.js";
import { MeteredRunnerPool, mailqMetrics } from "../../src/metrics/mailq.js";
import { RunnerPool } from "../../src/relay/collect.js";
import { createSlackApp } from "../../src/slack/app.js";
import { createWatchScheduler } from "../../src/slack/watches.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { inflight } from "../../src/util/inflight.js";
import type { WatchScheduler } from "../../src/watch/scheduler.js";

export const SIGNING_SECRET = "lab-signing-secret-0123456789";

export interface RunningBot {
  url: string;
  store: Store;
  pool: RunnerPool;
  /** The watch scheduler; tests drive its ticks themselves. */
  watches: WatchScheduler;
  stop(): Promise<void>;
}

/** The real Bolt app over HTTP on a loopback port, talking to a fake Web API. */
export async function startBot(o: {
  config: Config;
  apiUrl: string;
  store?: Store;
  nowMs?: () => number;
  env?: NodeJS.ProcessEnv;
  /** Time every relay command into the process-wide metrics (as `serve` does). */
  meteredPool?: boolean;
  logger?: JsonLogger;
}): Promise<RunningBot> {
  const store = o.store ?? openSqliteStore(":memory:");
  const pool = o.meteredPool
    ? new MeteredRunnerPool(mailqMetrics, o.env ?? process.env, o.config.probes.compression, {
        maxConnections: o.config.probes.maxConnections,
      })
    : new RunnerPool(o.env ?? process.env, o.config.probes.compression, {
        maxConnections: o.config.probes.maxConnections,
      });
  const env = {
    SLACK_BOT_TOKEN: "xoxb-lab-token",
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: o.apiUrl,
    PORT: 0,
  };
  const watches = createWatchScheduler({ config: o.config, env, store, pool, nowMs: o.nowMs ?? Date.now });
  const running = inflight();
  const app = createSlackApp({
    inflight: running,
    config: o.config,
    env,
    watches,
    pool,
    store,
    nowMs: o.nowMs ?? Date.now,
    subcommands,
    ...(o.logger ? { logger: o.logger } : {}),
  });
  const server = (await app.start(0)) as Server;
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/slack/events`,
    store,
    pool,
    watches,
    // As `serve` stops: no new requests, then what runs finishes before relays and store close.
    async stop() {
      await app.stop();
      await watches.stop();
      await running.drain(o.config.slack.shutdownGrace);
      await pool.closeAll();
      if (!o.store) await store.close();
    },
  };
}
