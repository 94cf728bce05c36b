import * as z from "zod";
import { decide } from "../../../changes/approval.js";
import type { Config } from "../../../config.js";
import { describeError } from "../../../errors.js";
import type { RunnerPool } from "../../../relay/collect.js";
import type { Store } from "../../../store/store.js";
import { type AccessChecker, interactiveAsker, payloadTeams, payloadUser } from "../../access.js";
import { slackChat } from "../../chat.js";
import { channelId } from "../../ids.js";
import { type ButtonArgs, readPress } from "./press.js";

export const APPROVAL_ACTION = /^mailq_(approve|reject|cancel)$/;

const pressSchema = z.object({
  user: payloadUser,
  ...payloadTeams,
  channel: z.object({ id: channelId }),
  actions: z
    .array(
      z.object({ action_id: z.enum(["mailq_approve", "mailq_reject", "mailq_cancel"]), value: z.uuid() }),
    )
    .length(1),
});

const DECISIONS = { mailq_approve: "approve", mailq_reject: "reject", mailq_cancel: "cancel" } as const;

export interface ApprovalActionDeps {
  config: Config;
  pool: RunnerPool;
  store: Store;
  nowMs: () => number;
  access: AccessChecker;
}

/** Approve / Reject / Cancel on an approval card. */
export function approvalAction(deps: ApprovalActionDeps) {
  return async (args: ButtonArgs) => {
    const { client, logger, respond } = args;
    const p = await readPress(args, pressSchema, "button press");
    if (!p) return;
    const { user, channel } = p;
    const [press] = p.actions;
    if (!press) return;
    const decision = DECISIONS[press.action_id];
    const chat = slackChat(client);
    const refused = await deps.access.refusal(
      interactiveAsker(p, channel.id),
      decision === "cancel" ? "any" : "approve",
      `${decision} request ${press.value}`,
    );
    if (refused) {
      await chat.whisper(channel.id, user.id, refused).catch(() => {});
      return;
    }
    let message: string;
    try {
      message = (
        await decide(press.value, user.id, decision, {
          ...deps,
          slack: {
            ...chat,
            replaceOriginal: async (card) => {
              await respond({ replace_original: true, text: card.text, blocks: card.blocks });
            },
          },
        })
      ).message;
    } catch (e) {
      message = `That ${decision} failed: ${describeError(e)}`;
    }
    // Where the bot is not a member, only the press's response URL reaches the person.
    await chat
      .whisper(channel.id, user.id, message)
      .catch(() => respond({ response_type: "ephemeral", replace_original: false, text: message }))
      .catch((e) =>
        logger.warn(`could not tell ${user.id} the outcome of a ${decision}: ${describeError(e)}`),
      );
  };
}
