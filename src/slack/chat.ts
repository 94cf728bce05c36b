import type { App, webApi } from "@slack/bolt";
import { redactDeep } from "../cards/privacy.js";
import type { Card } from "../cards/status.js";
import { type Chat, NotPostable } from "../chat/port.js";
import { MailqError } from "../errors.js";

type WebClient = InstanceType<typeof webApi.WebClient>;

/** Slack errors after which the bot cannot post in a channel until someone invites it (or unarchives). */
const NOT_POSTABLE = new Set(["not_in_channel", "channel_not_found", "is_archived"]);

/** The error code of a Web API call that Slack answered with ok: false. */
export function slackErrorCode(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null || !("data" in e)) return undefined;
  const data = e.data;
  if (typeof data !== "object" || data === null || !("error" in data)) return undefined;
  return typeof data.error === "string" ? data.error : undefined;
}

/** Slack errors that mean the bot's token no longer works: nothing the bot posts will go out. */
const TOKEN_DEAD = new Set([
  "invalid_auth",
  "token_revoked",
  "account_inactive",
  "not_authed",
  "token_expired",
]);

/**
 * "Not in this channel" becomes NotPostable, a dead token an error saying what to do; anything
 * else passes as it came.
 */
function classified(channel?: string) {
  return (e: unknown): never => {
    const code = slackErrorCode(e);
    if (channel !== undefined && code !== undefined && NOT_POSTABLE.has(code))
      throw new NotPostable(channel, code, e);
    if (code !== undefined && TOKEN_DEAD.has(code))
      throw new MailqError("SLACK_API", `Slack refused the bot's token (${code})`, {
        hint: "Reinstall the app to the workspace (or copy its current Bot User OAuth Token) into SLACK_BOT_TOKEN and restart mailq-bot",
        cause: e,
      });
    throw e;
  };
}

/**
 * The chat port on Slack's Web API. The last line of defence sits here: whatever a card forgot,
 * no message the bot posts or updates in a channel carries a mailbox. A whisper (inspect's
 * envelope for one authorised person) passes untouched.
 */
export function slackChat(client: WebClient): Chat {
  const safe = (card: Card): Card => redactDeep(card);
  return {
    async post(channel, card, threadTs) {
      const { text, blocks } = safe(card);
      const r = await client.chat
        .postMessage({ channel, text, blocks, ...(threadTs ? { thread_ts: threadTs } : {}) })
        .catch(classified(channel));
      return r.ts;
    },
    async update(channel, ts, card) {
      const { text, blocks } = safe(card);
      await client.chat.update({ channel, ts, text, blocks }).catch(classified(channel));
    },
    async whisper(channel, user, text) {
      await client.chat.postEphemeral({ channel, user, text }).catch(classified(channel));
    },
    async upload(channel, threadTs, file) {
      await client.files
        .uploadV2({
          channel_id: channel,
          thread_ts: threadTs,
          filename: file.filename,
          title: file.title,
          file: file.data,
        })
        .catch(classified(channel));
    },
    async groupMembers(usergroup) {
      const r = await client.usergroups.users.list({ usergroup }).catch(classified());
      return r.users ?? [];
    },
  };
}

/** The chat of a running app, for what runs beside its listeners (the expiry sweep). */
export const appChat = (app: App): Chat => slackChat(app.client);
