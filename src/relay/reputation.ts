import { type BlocklistProbe, outboundIps, reputationWarning } from "../analysis/reputation.js";
import type { Config, RelayConfig } from "../config.js";
import { describeError } from "../errors.js";
import type { RunnerPool } from "./collect.js";
import type { ProbeContext } from "./probes.js";
import { blocklistLookup, worldPostconf } from "./triage-probes.js";

/** Every outbound address against every configured zone; a failed lookup is "unknown", with its reason. */
export function checkBlocklists(
  ctx: ProbeContext,
  ips: string[],
  zones: string[],
  resolver: string | undefined,
  note: (e: unknown) => void,
): Promise<BlocklistProbe[]> {
  return Promise.all(
    ips.flatMap((ip) =>
      zones.map((zone) =>
        blocklistLookup(ctx, ip, zone, resolver).catch((e): BlocklistProbe => {
          note(e);
          return {
            ip,
            zone,
            status: "unknown",
            answers: [],
            output: `${ip} on ${zone}: unknown (${describeError(e)})`,
          };
        }),
      ),
    ),
  );
}

/**
 * The status card's guard against requeueing into a listing: the relay's outbound addresses
 * against the blocklists, the same read-only lookups triage runs. One line per listed relay;
 * none when nothing is listed or the relay cannot be asked (status reports that itself).
 */
export async function reputationWarnings(
  relays: RelayConfig[],
  pool: RunnerPool,
  config: Config,
  nowMs: () => number,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(
    relays.map(async (relay) => {
      try {
        const runner = await pool.get(relay, config.probes.timeout);
        const ctx: ProbeContext = {
          runner,
          sudo: relay.sudo,
          deadlineMs: nowMs() + config.probes.timeout,
          nowMs,
        };
        const values = await worldPostconf(ctx);
        const outbound = outboundIps(relay.kind === "ssh" ? relay.outboundIps : undefined, values);
        const resolver = relay.kind === "ssh" ? relay.resolver : undefined;
        const probes = await checkBlocklists(ctx, outbound.ips, config.triage.blocklists, resolver, () => {});
        const line = reputationWarning(relay.name, probes);
        if (line) out.set(relay.name, line);
      } catch {
        // unreachable or postconf refused: the status probes say so on the card
      }
    }),
  );
  return out;
}
