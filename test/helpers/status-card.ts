import type { Config } from "../../src/config.js";
import { firstCardWithinMs, fullCardWithinMs } from "./deadlines.js";
import type { FakeSlack, SlackCall } from "./slack.js";

/**
 * The complete /mailq status card posted in a channel: the first post, or, when that was a
 * partial answer (a loaded machine can be slower than probes.firstAnswerAfter), the update
 * that completed it in place. Waits only as long as the configuration under test allows.
 */
export async function completeStatusCard(
  slack: FakeSlack,
  channel: string,
  config: Config,
): Promise<{ post: SlackCall; card: SlackCall }> {
  const post = await slack.waitFor(
    "chat.postMessage",
    (x) => x.body.channel === channel,
    firstCardWithinMs(config),
  );
  if (!JSON.stringify(post.body.blocks).includes("⏳ partial")) return { post, card: post };
  const ts = (post.response as { ts?: string }).ts;
  const card = await slack.waitFor(
    "chat.update",
    // The card is updated in place while the listing runs; the complete one is not partial.
    (x) =>
      x.body.channel === channel && x.body.ts === ts && !JSON.stringify(x.body.blocks).includes("⏳ partial"),
    fullCardWithinMs(config),
  );
  return { post, card };
}
