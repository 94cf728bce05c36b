import { webApi } from "@slack/bolt";

/**
 * How the bot's Web API clients retry: the SDK's default (ten tries over about thirty minutes,
 * a 429 waited out for its Retry-After first), named so the tests hold the product to it.
 */
export const SLACK_RETRY = webApi.retryPolicies.tenRetriesInAboutThirtyMinutes;

/** The Web API client options every client of the bot shares: the base URL (a test's fake Slack) and retries. */
export function webClientOptions(apiUrl: string | undefined) {
  return {
    retryConfig: SLACK_RETRY,
    ...(apiUrl ? { slackApiUrl: apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/` } : {}),
  };
}
