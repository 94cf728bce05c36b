import type * as z from "zod";
import type { Card } from "../cards/status.js";
import type { Config } from "../config.js";
import type { RunnerPool } from "../relay/collect.js";
import type { Store } from "../store/store.js";
import type { WatchScheduler } from "../watch/scheduler.js";
import type { Chat } from "./port.js";

/** What a subcommand or button needs beyond being asked from a served team and channel. */
export type Need = "any" | "view" | "inspect" | "request" | "approve";

/** Where a subcommand runs: who asked, where, and how to answer them. */
export interface CommandContext {
  config: Config;
  pool: RunnerPool;
  store: Store;
  /** The chat the command came from, for what goes beyond answering it (an approval card's updates). */
  chat: Chat;
  /** The watch scheduler, when the app runs one. */
  watches?: WatchScheduler;
  nowMs: () => number;
  userId: string;
  channelId: string;
  /** The command's response URL, when it came with one (slash commands do). */
  responseUrl?: string;
  /** Posts in the channel, for everyone; the message's ts when the chat gave one. */
  post(card: Card): Promise<string | undefined>;
  /** Replaces a card this command posted (by the ts post gave). */
  update(ts: string, card: Card): Promise<void>;
  /** Answers only the person who asked. */
  whisper(text: string): Promise<void>;
  /** Opens a form for the person who asked, where the chat can (a slash command's trigger). */
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

/** What reading a subcommand's words gave: bound arguments ready to run, or the schema's refusal. */
export type Read =
  | { ok: true; args: unknown; ackText: string; run(ctx: CommandContext): Promise<void> }
  | { ok: false; error: z.ZodError };

/** A subcommand with its argument type sealed inside: what a command table holds. */
export interface Command extends Pick<Subcommand, "name" | "summary" | "usage" | "examples" | "access"> {
  /** The words after the subcommand, read by its own schema. */
  read(words: string[], config: Config): Read;
}

export function defineSubcommand<A>(s: Subcommand<A>): Command {
  return {
    name: s.name,
    summary: s.summary,
    usage: s.usage,
    examples: s.examples,
    access: s.access,
    read(words, config) {
      const parsed = s.schema(config).safeParse(words);
      if (!parsed.success) return { ok: false, error: parsed.error };
      const args = parsed.data;
      return { ok: true, args, ackText: s.ackText(args, config), run: (ctx) => s.run(args, ctx) };
    },
  };
}
