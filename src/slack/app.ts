import { App, LogLevel } from "@slack/bolt";
import type { Config, SlackEnv } from "../config.js";
import type { RunnerPool } from "../relay/collect.js";
import type { Store } from "../store/store.js";
import * as mailqCommand from "./listeners/mailq-command.js";
import type { Subcommand } from "./subcommand.js";

export interface SlackAppOptions {
  config: Config;
  env: SlackEnv;
  pool: RunnerPool;
  store: Store;
  nowMs: () => number;
  subcommands: Subcommand<never>[];
}

/** The composition root for Slack: transport from the environment, then the listeners. */
export function createSlackApp(o: SlackAppOptions): InstanceType<typeof App> {
  const clientOptions = o.env.SLACK_API_URL
    ? { slackApiUrl: o.env.SLACK_API_URL.endsWith("/") ? o.env.SLACK_API_URL : `${o.env.SLACK_API_URL}/` }
    : {};
  const app = o.env.SLACK_APP_TOKEN
    ? new App({
        token: o.env.SLACK_BOT_TOKEN,
        appToken: o.env.SLACK_APP_TOKEN,
        socketMode: true,
        clientOptions,
        // The Socket Mode client opens its connection through the Web API too.
        installerOptions: { clientOptions },
        logLevel: LogLevel.INFO,
      })
    : new App({
        token: o.env.SLACK_BOT_TOKEN,
        signingSecret: o.env.SLACK_SIGNING_SECRET as string,
        clientOptions,
        logLevel: LogLevel.INFO,
      });
  mailqCommand.register(app, o);
  return app;
}
