import type { RelayTriage } from "../analysis/triage/index.js";
import type { Config } from "../config.js";
import { type RunnerPool, selectRelays } from "../relay/collect.js";
import { triageRelay } from "../relay/triage.js";

/** `triage`, for the CLI and the chat alike: the first-ten-minutes checklist on one relay or all. */
export function runTriage(
  deps: { config: Config; pool: RunnerPool; nowMs: () => number },
  relay: string | undefined,
): Promise<RelayTriage[]> {
  const relays = selectRelays(deps.config, relay);
  return Promise.all(relays.map((r) => triageRelay(r, deps.pool, deps.config, deps.nowMs)));
}
