import { webApi } from "@slack/bolt";
import type { Config, SlackEnv } from "../config.js";
import { collectAll, collectOptions, type RunnerPool } from "../relay/collect.js";
import type { Store } from "../store/store.js";
import { WatchScheduler } from "../watch/scheduler.js";
import { slackChat } from "./chat.js";
import { webClientOptions } from "./client.js";

/** The watch scheduler on its own Web API client (same token and base URL as the app's). */
export function createWatchScheduler(o: {
  config: Config;
  env: Pick<SlackEnv, "SLACK_BOT_TOKEN" | "SLACK_API_URL">;
  store: Store;
  pool: RunnerPool;
  nowMs: () => number;
  isLeader?: () => boolean;
  tickMs?: number;
  onError?: (e: unknown) => void;
}): WatchScheduler {
  const client = new webApi.WebClient(o.env.SLACK_BOT_TOKEN, webClientOptions(o.env.SLACK_API_URL));
  return new WatchScheduler({
    store: o.store,
    config: o.config,
    collect: (relays) => collectAll(relays, o.pool, collectOptions(o.config, o.nowMs)),
    chat: slackChat(client),
    nowMs: o.nowMs,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    ...(o.isLeader ? { isLeader: o.isLeader } : {}),
    ...(o.tickMs ? { tickMs: o.tickMs } : {}),
    ...(o.onError ? { onError: o.onError } : {}),
  });
}
