import { createHmac, randomBytes } from "node:crypto";
import { webApi } from "@slack/bolt";
import { parseSlackEnv, type SlackEnv } from "../config.js";
import { describeError } from "../errors.js";
import { type Check, fail, ok, skip, warn } from "../util/check.js";
import { slackErrorCode } from "./chat.js";
import { webClientOptions } from "./client.js";
import { BOT_SCOPES } from "./scopes.js";

export interface SlackDoctorOptions {
  env: NodeJS.ProcessEnv;
  channels: string[];
  timeoutMs: number;
}

const A = "slack";

function client(token: string, env: SlackEnv, timeoutMs: number) {
  return new webApi.WebClient(token, {
    ...webClientOptions(env.SLACK_API_URL),
    // A check answers now: a retry would only make doctor slow to say what is wrong.
    retryConfig: { retries: 0 },
    timeout: timeoutMs,
    logLevel: webApi.LogLevel.ERROR,
  });
}

/** The token, its scopes, the bot in each channel, and the transport the bot will use. Never throws. */
export async function slackChecks(o: SlackDoctorOptions): Promise<Check[]> {
  if (!o.env.SLACK_BOT_TOKEN)
    return [
      warn(
        A,
        "env",
        "SLACK_BOT_TOKEN is not set: the Slack checks were skipped (the CLI commands do not need Slack; serve does)",
        "put the Slack variables in /etc/mailq-bot/env or ./.env (see .env.sample)",
      ),
    ];
  let env: SlackEnv;
  try {
    env = parseSlackEnv(o.env);
  } catch (e) {
    return [fail(A, "env", describeError(e), "fix the variables listed (see .env.sample)")];
  }
  const checks: Check[] = [
    ok(
      A,
      "env",
      env.SLACK_APP_TOKEN ? "Socket Mode (SLACK_APP_TOKEN is set)" : `HTTP mode on port ${env.PORT}`,
    ),
  ];
  const web = client(env.SLACK_BOT_TOKEN, env, o.timeoutMs);
  let scopes: string[] | undefined;
  try {
    const r = await web.auth.test();
    scopes = r.response_metadata?.scopes;
    checks.push(ok(A, "auth.test", `the token works: @${r.user ?? "?"} in ${r.team ?? "?"}`));
  } catch (e) {
    checks.push(
      fail(
        A,
        "auth.test",
        `the bot token was refused: ${describeError(e)}`,
        "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page into SLACK_BOT_TOKEN",
      ),
      skip(A, "scopes", "auth.test failed"),
      skip(A, "channels", "auth.test failed"),
    );
    checks.push(await transportCheck(env, o.timeoutMs));
    return checks;
  }
  const missing = Object.keys(BOT_SCOPES).filter((s) => !scopes?.includes(s));
  if (!scopes)
    checks.push(warn(A, "scopes", "Slack did not say which scopes the token has (no x-oauth-scopes header)"));
  else if (missing.length)
    checks.push(
      fail(
        A,
        "scopes",
        `missing: ${missing.map((s) => `${s} (${BOT_SCOPES[s]})`).join(", ")}`,
        "add them under OAuth & Permissions → Bot Token Scopes (deploy/slack-app-manifest.yaml lists them all), then reinstall the app",
      ),
    );
  else checks.push(ok(A, "scopes", `all ${Object.keys(BOT_SCOPES).length} needed scopes granted`));
  checks.push(...(await channelChecks(web, o.channels)));
  checks.push(await transportCheck(env, o.timeoutMs));
  return checks;
}

async function channelChecks(
  web: InstanceType<typeof webApi.WebClient>,
  channels: string[],
): Promise<Check[]> {
  if (channels.length === 0)
    return [
      warn(
        A,
        "channels",
        "slack.channels is empty: the bot's membership was not checked",
        "list the incident channels' IDs under slack.channels in the configuration",
      ),
    ];
  const out: Check[] = [];
  for (const channel of channels) {
    try {
      const r = await web.conversations.info({ channel });
      const name = r.channel?.name ? `#${r.channel.name} (${channel})` : channel;
      out.push(
        r.channel?.is_member
          ? ok(A, "channel", `the bot is in ${name}`)
          : fail(
              A,
              "channel",
              `the bot is not in ${name}: cards there go through the command's response URL only`,
              `in ${name}: /invite @mailq-bot`,
            ),
      );
    } catch (e) {
      const code = slackErrorCode(e);
      out.push(
        fail(
          A,
          "channel",
          `${channel}: ${code ?? describeError(e)}`,
          code === "channel_not_found"
            ? "check the ID (channel details → bottom of the About tab); a private channel needs the bot invited first"
            : code === "missing_scope"
              ? "add channels:read and groups:read to the bot's scopes and reinstall the app"
              : "check the channel ID and the bot's scopes",
        ),
      );
    }
  }
  return out;
}

async function transportCheck(env: SlackEnv, timeoutMs: number): Promise<Check> {
  if (env.SLACK_APP_TOKEN) {
    try {
      await client(env.SLACK_APP_TOKEN, env, timeoutMs).apps.connections.open();
      return ok(A, "socket mode", "the app-level token may open a Socket Mode connection");
    } catch (e) {
      return fail(
        A,
        "socket mode",
        `apps.connections.open failed: ${describeError(e)}`,
        "enable Socket Mode in the app and put an app-level token with connections:write (xapp-…) in SLACK_APP_TOKEN",
      );
    }
  }
  return httpCheck(env, timeoutMs);
}

/** HTTP mode: a signed url_verification to the request URL must come back from this bot. */
async function httpCheck(env: SlackEnv, timeoutMs: number): Promise<Check> {
  const url = env.SLACK_REQUEST_URL;
  if (!url)
    return warn(
      A,
      "http",
      "HTTP mode: whether Slack reaches the bot was not checked",
      "set SLACK_REQUEST_URL to the app's request URL (https://…/slack/events) and run doctor while the bot runs, or use Socket Mode",
    );
  const challenge = randomBytes(12).toString("hex");
  const body = JSON.stringify({ type: "url_verification", token: "doctor", challenge });
  const ts = Math.floor(Date.now() / 1000);
  const sig = `v0=${createHmac("sha256", env.SLACK_SIGNING_SECRET ?? "")
    .update(`v0:${ts}:${body}`)
    .digest("hex")}`;
  try {
    const r = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-slack-request-timestamp": String(ts),
        "x-slack-signature": sig,
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await r.text();
    if (r.ok && text.includes(challenge)) return ok(A, "http", `${url} answers a signed request`);
    return fail(
      A,
      "http",
      `${url} answered HTTP ${r.status} without the challenge`,
      r.status === 401
        ? "SLACK_SIGNING_SECRET differs from the running bot's or the app's"
        : "check that the URL reaches mailq-bot serve (path /slack/events) and that it runs",
    );
  } catch (e) {
    return fail(
      A,
      "http",
      `${url} did not answer: ${describeError(e)}`,
      "start the bot (systemctl start mailq-bot) and check the proxy or firewall in front of it",
    );
  }
}
