import type { z } from "zod";
import type { Card } from "../cards/status.js";
import type { Config } from "../config.js";
import type { RunnerPool } from "../relay/collect.js";

export interface CommandContext {
  config: Config;
  pool: RunnerPool;
  nowMs: () => number;
  userId: string;
  channelId: string;
  /** Posts in the channel, for everyone. */
  post(card: Card): Promise<void>;
  /** Answers only the person who asked. */
  whisper(text: string): Promise<void>;
}

/** One `/mailq <name>` subcommand: its argument schema, examples (they feed help) and handler. */
export interface Subcommand<A = unknown> {
  name: string;
  summary: string;
  usage: string;
  examples: string[];
  /** Builds the schema for the words after the subcommand; it may depend on the configuration. */
  schema(config: Config): z.ZodType<A>;
  /** Said at once, in the acknowledgement, when the arguments are valid. */
  ackText(args: A, config: Config): string;
  run(args: A, ctx: CommandContext): Promise<void>;
}

export function defineSubcommand<A>(s: Subcommand<A>): Subcommand<A> {
  return s;
}
