import { probeTargets, type Triage, triage } from "../analysis/triage.js";
import type { Config, RelayConfig } from "../config.js";
import { describeError } from "../errors.js";
import { collectOptions, collectRelay, type RunnerPool } from "./collect.js";
import { type DnsProbe, digMx, type TcpProbe, tcpConnect } from "./triage-probes.js";

/** Checklist A on one relay, read-only: the status probes, then DNS and TCP probes of what fails. */
export async function triageRelay(
  relay: RelayConfig,
  pool: RunnerPool,
  config: Config,
  nowMs: () => number,
): Promise<Triage & { probeErrors: string[] }> {
  const snap = await collectRelay(relay, pool, {
    ...collectOptions(config, nowMs),
    firstAnswerMs: undefined,
  });
  const errors: string[] = [];
  const dns: DnsProbe[] = [];
  const tcp: TcpProbe[] = [];
  if (snap.ok) {
    const runner = await pool.get(relay, config.probes.timeout);
    const ctx = { runner, sudo: relay.sudo, deadlineMs: nowMs() + config.probes.timeout, nowMs };
    const targets = probeTargets(snap);
    const resolver = relay.kind === "ssh" ? relay.resolver : undefined;
    await Promise.all([
      ...targets.dns.map((n) =>
        digMx(ctx, n, resolver).then(
          (p) => void dns.push(p),
          (e) => void errors.push(`${relay.name}: dig ${n}: ${describeError(e)}`),
        ),
      ),
      ...targets.tcp.map((t) =>
        tcpConnect(ctx, t.host, t.port).then(
          (p) => void tcp.push(p),
          (e) => void errors.push(`${relay.name}: nc ${t.host} ${t.port}: ${describeError(e)}`),
        ),
      ),
    ]);
  }
  return { ...triage(snap, dns, tcp), probeErrors: [...errors, ...snap.probeErrors.map((p) => p.message)] };
}
