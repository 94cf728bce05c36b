import type { Card } from "../cards/status.js";
import { MailqError } from "../errors.js";

/** A file for a thread: a chart, for instance. */
export interface ChatFile {
  filename: string;
  title: string;
  data: Buffer;
}

/**
 * The chat the use cases talk to. The Slack implementation (src/slack/chat.ts) is the only one
 * the product runs; tests give their own. Messages posted or updated in a channel never carry a
 * mailbox; a whisper is seen only by the person named.
 */
export interface Chat {
  /** Posts for everyone in a channel (in a thread when given); the message's ts when there is one. */
  post(channel: string, card: Card, threadTs?: string): Promise<string | undefined>;
  update(channel: string, ts: string, card: Card): Promise<void>;
  /** Seen only by `user`, in `channel`. */
  whisper(channel: string, user: string, text: string): Promise<void>;
  upload(channel: string, threadTs: string, file: ChatFile): Promise<void>;
  /** Members of a user group, for access lists that name groups. */
  groupMembers(groupId: string): Promise<string[]>;
}

/** The bot cannot post in the channel until someone invites it (or unarchives the channel). */
export class NotPostable extends MailqError {
  constructor(
    readonly channel: string,
    /** What the chat said, e.g. not_in_channel. */
    readonly reason: string,
    cause?: unknown,
  ) {
    super("SLACK_API", `the bot cannot post in <#${channel}> (${reason})`, {
      hint: "Invite the bot to the channel (/invite @mailq-bot), or unarchive it",
      cause,
    });
  }
}

/** Why the bot cannot post in the channel, when that is what went wrong. */
export const notPostable = (e: unknown): string | undefined =>
  e instanceof NotPostable ? e.reason : undefined;
