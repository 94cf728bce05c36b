import { redactDeep } from "../cards/privacy.js";
import type { Card } from "../cards/status.js";
import type { Command, CommandContext } from "../chat/command.js";
import { type Chat, notPostable } from "../chat/port.js";
import { describeError, MailqError } from "../errors.js";
import type { AccessChecker } from "./access.js";

/** What a listener knows about one request: who, where, and how to answer them. */
export interface RequestSlack {
  chat: Chat;
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
  subcommands: Command[];
  access: AccessChecker;
};

/** The context every subcommand runs in, whether typed as `/mailq …` or started by a button. */
export function commandContext(
  deps: Omit<CommandDeps, "subcommands" | "access">,
  req: RequestSlack,
): CommandContext {
  const { chat } = req;
  return {
    config: deps.config,
    pool: deps.pool,
    store: deps.store,
    ...(deps.watches ? { watches: deps.watches } : {}),
    chat,
    nowMs: deps.nowMs,
    userId: req.userId,
    channelId: req.channelId,
    ...(req.responseUrl ? { responseUrl: req.responseUrl } : {}),
    async post(card: Card) {
      try {
        return await chat.post(req.channelId, card);
      } catch (e) {
        const code = notPostable(e);
        if (!req.postViaResponseUrl || code === undefined) throw e;
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
    update: (ts, card) => chat.update(req.channelId, ts, card),
    whisper: req.whisper,
    ...(req.openModal ? { openModal: req.openModal } : {}),
  };
}
