import type { App } from "@slack/bolt";
import { describeError } from "../../errors.js";
import type { Asker } from "../access.js";
import { route } from "../router.js";
import { type CommandDeps, commandContext, type SlackClient } from "../subcommand.js";

export type MailqDeps = CommandDeps & { command?: string };

/** `/mailq …`: ack at once (with the error, if any, only for the asker), then run. */
export function register(app: App, deps: MailqDeps): void {
  app.command(deps.command ?? "/mailq", async ({ command, ack, respond, client, logger }) => {
    const who: Asker = {
      userId: command.user_id,
      channelId: command.channel_id,
      teamId: command.team_id,
      enterpriseId: command.enterprise_id,
      userTeamId: typeof command.user_team_id === "string" ? command.user_team_id : undefined,
    };
    // Team and channel first: someone the bot does not serve learns nothing, not even the relay names.
    const outside = await deps.access.refusal(who, "any", "/mailq");
    if (outside) {
      await ack({ response_type: "ephemeral", text: outside });
      return;
    }
    const routed = route(command.text ?? "", deps.subcommands, deps.config);
    if (!routed.ok) {
      await ack({ response_type: "ephemeral", text: routed.message });
      return;
    }
    const relay = (routed.args as { relay?: unknown }).relay;
    const refused =
      routed.command.access === "any"
        ? undefined
        : await deps.access.refusal(
            who,
            routed.command.access,
            `/mailq ${routed.command.name}`,
            typeof relay === "string" ? relay : null,
          );
    if (refused) {
      await ack({ response_type: "ephemeral", text: refused });
      return;
    }
    await ack({
      response_type: "ephemeral",
      text: routed.command.ackText(routed.args as never, deps.config),
    });
    const ctx = commandContext(deps, {
      client: client as unknown as SlackClient,
      userId: command.user_id,
      channelId: command.channel_id,
      responseUrl: command.response_url,
      // The bot is not in every channel; the response URL works anywhere the command was typed.
      postViaResponseUrl: async (card) => {
        await respond({ response_type: "in_channel", text: card.text, blocks: card.blocks as never });
      },
      whisper: async (text) => {
        await respond({ response_type: "ephemeral", text });
      },
      // A trigger_id is valid for 3 s: open before anything slow runs.
      openModal: async (view) => {
        await client.views.open({ trigger_id: command.trigger_id, view: view as never });
      },
    });
    try {
      await routed.command.run(routed.args as never, ctx);
    } catch (e) {
      logger.error(`/mailq ${routed.command.name} failed: ${describeError(e)}`);
      await respond({
        response_type: "ephemeral",
        text: `\`/mailq ${routed.command.name}\` failed: ${describeError(e)}`,
      }).catch(() => {});
    }
  });
}
