import { MailqError } from "../errors.js";

/**
 * POSTs a message to a response URL (Slack's, given with a command or an interaction), for the
 * places where no Bolt `respond` is at hand, such as a form submitted later.
 */
export async function postToResponseUrl(
  url: string,
  message: Record<string, unknown>,
  timeoutMs = 10_000,
): Promise<void> {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!r.ok)
    throw new MailqError(
      "SLACK_API",
      `the response URL answered HTTP ${r.status}: ${(await r.text()).slice(0, 100)}`,
    );
}
