import type { App } from "@slack/bolt";
import { describeError } from "../../errors.js";
import { route } from "../router.js";
import { type CommandDeps, commandContext, type SlackClient } from "../subcommand.js";

export type MailqDeps = CommandDeps & { command?: string };

/** `/mailq …`: ack at once (with the error, if any, only for the asker), then run. */
export function register(app: App, deps: MailqDeps): void {
  app.command(deps.command ?? "/mailq", async ({ command, ack, respond, client, logger }) => {
    const routed = route(command.text ?? "", deps.subcommands, deps.config);
    if (!routed.ok) {
      await ack({ response_type: "ephemeral", text: routed.message });
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
