import type { z } from "zod";
import { redactDeep } from "../cards/privacy.js";
import type { Card } from "../cards/status.js";
import type { Config } from "../config.js";
import { describeError, MailqError } from "../errors.js";
import type { RunnerPool } from "../relay/collect.js";
import type { Store } from "../store/store.js";
import type { WatchScheduler } from "../watch/scheduler.js";
import type { AccessChecker, Need } from "./access.js";
import { channelSafe } from "./private.js";

/** The slice of Slack's Web API the commands use; Bolt's WebClient fits it. */
export interface SlackClient {
  chat: {
    postMessage(args: Record<string, unknown>): Promise<{ ok?: boolean; ts?: string; channel?: string }>;
    update(args: Record<string, unknown>): Promise<{ ok?: boolean }>;
    postEphemeral(args: Record<string, unknown>): Promise<{ ok?: boolean }>;
  };
}

export interface CommandContext {
  config: Config;
  pool: RunnerPool;
  store: Store;
  client: SlackClient;
  /** The watch scheduler, when the app runs one. */
  watches?: WatchScheduler;
  nowMs: () => number;
  userId: string;
  channelId: string;
  /** The command's response URL, when it came with one (slash commands do). */
  responseUrl?: string;
  /** Posts in the channel, for everyone; the message's ts when Slack gave one. */
  post(card: Card): Promise<string | undefined>;
  /** Answers only the person who asked. */
  whisper(text: string): Promise<void>;
  /** Opens a modal for the person who asked (views.open with the command's trigger_id). */
  openModal?(view: Record<string, unknown>): Promise<void>;
}

/** One `/mailq <name>` subcommand: its argument schema, examples (they feed help) and handler. */
export interface Subcommand<A = unknown> {
  name: string;
  summary: string;
  usage: string;
  examples: string[];
  /** Who may run it (src/slack/access.ts): read-only, envelopes, or a queue change. */
  access: Need;
  /** Builds the schema for the words after the subcommand; it may depend on the configuration. */
  schema(config: Config): z.ZodType<A>;
  /** Said at once, in the acknowledgement, when the arguments are valid. */
  ackText(args: A, config: Config): string;
  run(args: A, ctx: CommandContext): Promise<void>;
}

export function defineSubcommand<A>(s: Subcommand<A>): Subcommand<A> {
  return s;
}

/** Slack errors after which the bot cannot post in a channel until someone invites it (or unarchives). */
export const NOT_POSTABLE = new Set(["not_in_channel", "channel_not_found", "is_archived"]);
export const slackErrorCode = (e: unknown): string | undefined =>
  (e as { data?: { error?: string } } | undefined)?.data?.error;

/** What a listener knows about one request: who, where, and how to answer them. */
export interface RequestSlack {
  client: SlackClient;
  userId: string;
  channelId: string;
  whisper(text: string): Promise<void>;
  responseUrl?: string;
  /** Posts for everyone through the request's response_url, where the bot is not in the channel. */
  postViaResponseUrl?(card: Card): Promise<void>;
  openModal?(view: Record<string, unknown>): Promise<void>;
}

/** What a listener that runs subcommands needs from the app. */
export type CommandDeps = Pick<CommandContext, "config" | "pool" | "store" | "watches" | "nowMs"> & {
  subcommands: Subcommand<never>[];
  access: AccessChecker;
};

/** The context every subcommand runs in, whether typed as `/mailq …` or started by a button. */
export function commandContext(
  deps: Omit<CommandDeps, "subcommands" | "access">,
  req: RequestSlack,
): CommandContext {
  const client = channelSafe(req.client);
  return {
    config: deps.config,
    pool: deps.pool,
    store: deps.store,
    ...(deps.watches ? { watches: deps.watches } : {}),
    client,
    nowMs: deps.nowMs,
    userId: req.userId,
    channelId: req.channelId,
    ...(req.responseUrl ? { responseUrl: req.responseUrl } : {}),
    async post(card: Card) {
      try {
        const r = await client.chat.postMessage({
          channel: req.channelId,
          text: card.text,
          blocks: card.blocks,
        });
        return r.ts;
      } catch (e) {
        const code = slackErrorCode(e);
        if (!req.postViaResponseUrl || code === undefined || !NOT_POSTABLE.has(code)) throw e;
        try {
          await req.postViaResponseUrl(redactDeep(card));
        } catch (viaUrl) {
          throw new MailqError(
            "SLACK_API",
            `the bot cannot post in this channel (${code}), and Slack refused the message through the command's response URL too (${describeError(viaUrl)})`,
            { cause: viaUrl },
          );
        }
        return undefined;
      }
    },
    whisper: req.whisper,
    ...(req.openModal ? { openModal: req.openModal } : {}),
  };
}
