import * as z from "zod";
import { TRIAGE_ACTIONS } from "../../../cards/triage.js";
import type { Config } from "../../../config.js";
import { QUEUE_ID_RE } from "../../../parsers/postqueue.js";
import { interactiveAsker, payloadTeams, payloadUser } from "../../access.js";
import { slackChat } from "../../chat.js";
import type { CommandDeps } from "../../context.js";
import { dispatch } from "../../dispatch.js";
import { channelId } from "../../ids.js";
import { type ButtonArgs, readPress } from "./press.js";

export const TRIAGE_ACTION = new RegExp(`^(?:${Object.values(TRIAGE_ACTIONS).join("|")})$`);

const valueSchema = (config: Config) =>
  z
    .string()
    .max(500)
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "not JSON" });
        return z.NEVER;
      }
    })
    .pipe(
      z
        .object({
          relay: z
            .string()
            .refine((n) => config.relays.some((r) => r.name === n), { message: "unknown relay" }),
          queueId: z.string().regex(QUEUE_ID_RE).optional(),
        })
        .strict(),
    );

const pressSchema = (config: Config) =>
  z.object({
    user: payloadUser,
    ...payloadTeams,
    channel: z.object({ id: channelId }),
    actions: z
      .array(
        z.object({
          action_id: z.enum([TRIAGE_ACTIONS.status, TRIAGE_ACTIONS.inspect, TRIAGE_ACTIONS.watch]),
          value: valueSchema(config),
        }),
      )
      .length(1),
  });

/** The words a person would type for each button. */
const WORDS = {
  [TRIAGE_ACTIONS.status]: (relay: string) => ["status", relay],
  [TRIAGE_ACTIONS.inspect]: (relay: string, queueId = "") => ["inspect", relay, queueId],
  [TRIAGE_ACTIONS.watch]: (relay: string) => ["watch", "start", relay],
};

/**
 * The buttons under a triage card. Each starts the natural next read-only step by dispatching
 * the words a person would type, so it goes through the same access check and the subcommand's
 * own schema: status of the relay, inspect the sample message (envelope, only for the presser),
 * start a watch. None of them changes anything on a relay.
 */
export function triageAction(deps: CommandDeps) {
  return async (args: ButtonArgs) => {
    const { client, logger, respond } = args;
    const p = await readPress(args, pressSchema(deps.config), "triage button press");
    if (!p) return;
    const { user, channel } = p;
    const [press] = p.actions;
    if (!press) return;
    const chat = slackChat(client);
    const whisper = async (text: string) => {
      await chat.whisper(channel.id, user.id, text).catch(() => {});
    };
    await dispatch(
      deps,
      interactiveAsker(p, channel.id),
      { words: WORDS[press.action_id](press.value.relay, press.value.queueId) },
      {
        chat,
        whisper,
        // As for `/mailq`: where the bot is not in the channel, the press's response URL still posts.
        postViaResponseUrl: async (card) => {
          await respond({
            response_type: "in_channel",
            replace_original: false,
            text: card.text,
            blocks: card.blocks,
          });
        },
      },
      { ack: whisper, failed: whisper, logger },
    );
  };
}
