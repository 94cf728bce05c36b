import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import type * as z from "zod";

/** What Bolt hands a button listener. */
export type ButtonArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

/**
 * Acks the press at once, then reads it with its schema: a press is input like any other, and
 * a malformed one is logged (which fields, never their values) and runs nothing.
 */
export async function readPress<T>(
  args: Pick<ButtonArgs, "ack" | "body" | "logger">,
  schema: z.ZodType<T>,
  what: string,
): Promise<T | undefined> {
  await args.ack();
  const p = schema.safeParse(args.body);
  if (p.success) return p.data;
  args.logger.warn(
    `ignored a malformed ${what}: ${p.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join(", ")}`,
  );
  return undefined;
}
