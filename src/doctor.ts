import type { Config } from "./config.js";
import { archiveCheck, storeCheck } from "./doctor/local.js";
import { selectRelays } from "./relay/collect.js";
import { relayChecks } from "./relay/doctor.js";
import { slackChecks } from "./slack/doctor.js";
import type { Check } from "./util/check.js";
import { ok } from "./util/check.js";

/** `mailq-bot doctor`: every check, in the order an operator fixes them. */
export async function doctor(
  config: Config,
  o: { relay?: string; env: NodeJS.ProcessEnv; nowMs: () => number },
): Promise<Check[]> {
  const relays = selectRelays(config, o.relay);
  const timeoutMs = config.probes.timeout;
  const [store, archive, perRelay, slack] = await Promise.all([
    storeCheck(config, o.env),
    archiveCheck(config),
    Promise.all(
      relays.map((r) =>
        r.kind === "local"
          ? Promise.resolve([
              ok("local", "relay", "no relays configured: status probes this machine, without SSH"),
            ])
          : relayChecks(r, {
              timeoutMs,
              listingTimeoutMs: config.probes.listingTimeout,
              logLines: config.probes.logLines,
              nowMs: o.nowMs,
            }),
      ),
    ),
    slackChecks({ env: o.env, channels: config.slack.channels, timeoutMs }),
  ]);
  return [
    ok("config", "parse", `${config.source}: ${config.relays.length} relay(s)`),
    store,
    archive,
    ...perRelay.flat(),
    ...slack,
  ];
}
