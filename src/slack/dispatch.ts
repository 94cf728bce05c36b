import type { Logger } from "@slack/bolt";
import { describeError } from "../errors.js";
import type { Asker } from "./access.js";
import { type CommandDeps, commandContext, type RequestSlack } from "./context.js";
import { type Routed, route, routeWords } from "./router.js";

/** How one request is answered: at once (the acknowledgement), and where its failure goes. */
export interface Answer {
  /** The first answer, only for the asker: a refusal, a usage message, or the subcommand's ack text. */
  ack(text: string): Promise<void>;
  /** A failure after the ack, only for the asker. */
  failed(text: string): Promise<void>;
  logger: Logger;
}

/**
 * The one way a subcommand runs, typed as `/mailq …` (text) or started by a button (words):
 * the served team and channel first (someone the bot does not serve learns nothing, not even the
 * relay names), then the subcommand's own schema, then the subcommand's access, then the ack,
 * then the run.
 */
export async function dispatch(
  deps: CommandDeps,
  who: Asker,
  typed: { text: string } | { words: string[] },
  request: Omit<RequestSlack, "userId" | "channelId">,
  answer: Answer,
): Promise<void> {
  const outside = await deps.access.refusal(who, "any", "/mailq");
  if (outside) return answer.ack(outside);
  const routed: Routed =
    "text" in typed
      ? route(typed.text, deps.subcommands, deps.config)
      : routeWords(typed.words, deps.subcommands, deps.config);
  if (!routed.ok) return answer.ack(routed.message);
  const refused =
    routed.access === "any"
      ? undefined
      : await deps.access.refusal(who, routed.access, `/mailq ${routed.name}`, routed.relay);
  if (refused) return answer.ack(refused);
  await answer.ack(routed.ackText);
  const ctx = commandContext(deps, { ...request, userId: who.userId, channelId: who.channelId });
  try {
    await routed.run(ctx);
  } catch (e) {
    answer.logger.error(`/mailq ${routed.name} failed: ${describeError(e)}`);
    await answer.failed(`\`/mailq ${routed.name}\` failed: ${describeError(e)}`).catch(() => {});
  }
}
