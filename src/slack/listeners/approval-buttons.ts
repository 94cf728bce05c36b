import type { App } from "@slack/bolt";
import { z } from "zod";
import { decide } from "../../actions/approval.js";
import type { Config } from "../../config.js";
import { describeError } from "../../errors.js";
import type { RunnerPool } from "../../relay/collect.js";
import type { Store } from "../../store/store.js";
import { type AccessChecker, interactiveAsker, payloadTeams, payloadUser } from "../access.js";
import { approvalSlack } from "../approvals.js";

const pressSchema = z.object({
  user: payloadUser,
  ...payloadTeams,
  channel: z.object({ id: z.string().regex(/^[CGD][A-Z0-9]{2,}$/) }),
  actions: z
    .array(
      z.object({ action_id: z.enum(["mailq_approve", "mailq_reject", "mailq_cancel"]), value: z.uuid() }),
    )
    .length(1),
});

/** Approve / Reject / Cancel on an approval card. */
export function register(
  app: App,
  deps: { config: Config; pool: RunnerPool; store: Store; nowMs: () => number; access: AccessChecker },
): void {
  app.action(/^mailq_(approve|reject|cancel)$/, async ({ ack, body, client, logger, respond }) => {
    await ack();
    const p = pressSchema.safeParse(body);
    if (!p.success) {
      logger.warn(
        `ignored a malformed button press: ${p.error.issues.map((i) => i.path.join(".")).join(", ")}`,
      );
      return;
    }
    const { user, channel, actions } = p.data;
    const press = actions[0] as { action_id: string; value: string };
    const decision = press.action_id.slice("mailq_".length) as "approve" | "reject" | "cancel";
    const refused = await deps.access.refusal(
      interactiveAsker(p.data, channel.id),
      decision === "cancel" ? "any" : "approve",
      `${decision} request ${press.value}`,
    );
    if (refused) {
      await client.chat.postEphemeral({ channel: channel.id, user: user.id, text: refused }).catch(() => {});
      return;
    }
    let message: string;
    try {
      message = (
        await decide(press.value, user.id, decision, {
          ...deps,
          slack: {
            ...approvalSlack(client as never),
            replaceOriginal: async (card) => {
              await respond({ replace_original: true, text: card.text, blocks: card.blocks as never });
            },
          },
        })
      ).message;
    } catch (e) {
      message = `That ${decision} failed: ${describeError(e)}`;
    }
    // Where the bot is not a member, only the press's response URL reaches the person.
    await client.chat
      .postEphemeral({ channel: channel.id, user: user.id, text: message })
      .catch(() => respond({ response_type: "ephemeral", replace_original: false, text: message }))
      .catch((e) =>
        logger.warn(`could not tell ${user.id} the outcome of a ${decision}: ${describeError(e)}`),
      );
  });
}
