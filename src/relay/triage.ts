import type { LogFacts } from "../analysis/log-facts.js";
import { expandPostconf, heloName, outboundIps, type RdnsProbe } from "../analysis/reputation.js";
import {
  type DnsProbe,
  mxFallbackTargets,
  probePlan,
  type RelayTriage,
  type TcpProbe,
  triage,
  type WorldProbes,
} from "../analysis/triage/index.js";
import type { Config, RelayConfig } from "../config.js";
import { describeError } from "../errors.js";
import { collectOptions, collectRelayProgressive, type RunnerPool } from "./collect.js";
import type { ProbeContext } from "./probes.js";
import { checkBlocklists } from "./reputation.js";
import {
  certEndDate,
  corruptFiles,
  digMx,
  logFacts,
  rdnsLookup,
  tcpConnect,
  worldPostconf,
} from "./triage-probes.js";

/**
 * Checklist A on one relay, read-only: the status probes (queue shape, reasons, disk, master
 * and qmgr, concurrency, log), a second read of the log for Postfix's own warnings and the
 * next hops, then dig and nc against only what the relay's deferrals named. Never throws.
 */
export async function triageRelay(
  relay: RelayConfig,
  pool: RunnerPool,
  config: Config,
  nowMs: () => number,
): Promise<RelayTriage> {
  // Triage answers within the probe timeout. When the listing is slower (a huge queue, or a
  // showq that cannot start on a full spool and leaves postqueue -j hanging), it judges from
  // the directory counts and the part of the listing read by then, marked partial.
  const progressive = await collectRelayProgressive(relay, pool, {
    ...collectOptions(config, nowMs),
    firstAnswerMs: config.probes.timeout,
    top: 50,
  });
  void progressive.full?.catch(() => {});
  const snapshot = progressive.first;
  const errors: string[] = [];
  const note = (e: unknown) => errors.push(`${relay.name}: ${describeError(e)}`);
  if (!snapshot.ok) return triage({ snapshot, log: null, dns: [], tcp: [] });

  let ctx: ProbeContext;
  try {
    const runner = await pool.get(relay, config.probes.timeout);
    ctx = { runner, sudo: relay.sudo, deadlineMs: nowMs() + config.probes.timeout, nowMs };
  } catch (e) {
    note(e);
    return triage({ snapshot, log: null, dns: [], tcp: [], probeErrors: errors });
  }

  const qdir = snapshot.disk?.path;
  const corrupt = qdir
    ? corruptFiles(ctx, qdir).catch((e) => {
        note(e);
        return null;
      })
    : Promise.resolve(null);
  let log: LogFacts | null = null;
  const source = snapshot.log?.source;
  if (source)
    log = await logFacts(ctx, source, config.probes.logLines).catch((e) => {
      note(e);
      return null;
    });
  else
    errors.push(
      `${relay.name}: mail log (triage): the status probes found no mail log to read; warnings and intake are unknown`,
    );

  const resolver = relay.kind === "ssh" ? relay.resolver : undefined;
  const world = worldProbes(relay, ctx, config, resolver, note);
  const corrupted = await corrupt;
  const plan = probePlan(snapshot, log);
  const dig = (name: string) =>
    digMx(ctx, name, resolver).then(
      (p): DnsProbe | null => p,
      (e) => {
        note(e);
        return null;
      },
    );
  const nc = (t: { host: string; port: number; domain: string }) =>
    tcpConnect(ctx, t.host, t.port, t.domain).then(
      (p): TcpProbe | null => p,
      (e) => {
        note(e);
        return null;
      },
    );
  const dnsNames = [...new Set([...plan.dns.map((d) => d.name), ...plan.mxFallback])];
  const [dnsAll, tcpFirst] = await Promise.all([
    Promise.all(dnsNames.map(dig)),
    Promise.all(plan.tcp.map(nc)),
  ]);
  const dnsDone = dnsAll.filter((p): p is DnsProbe => p !== null);
  const tcpMore = await Promise.all(mxFallbackTargets(plan, dnsDone).map(nc));
  const tcp = [...tcpFirst, ...tcpMore].filter((p): p is TcpProbe => p !== null);
  // Only the DNS-failure names are DNS evidence; fallback lookups only served to find an MX.
  const dnsEvidence = dnsDone.filter((p) => plan.dns.some((d) => d.name === p.name));
  return triage({
    snapshot,
    log,
    dns: dnsEvidence,
    tcp,
    probeErrors: errors,
    corruptFiles: corrupted,
    world: (await world) ?? undefined,
  });
}

/**
 * Checklist B: postconf for the HELO name, bound addresses and certificate, then every
 * outbound address against every configured blocklist and its reverse DNS, and the
 * certificate's end date. A failed lookup is noted and judged "unknown", never "clean".
 */
async function worldProbes(
  relay: RelayConfig,
  ctx: ProbeContext,
  config: Config,
  resolver: string | undefined,
  note: (e: unknown) => void,
): Promise<WorldProbes | null> {
  let values: Record<string, string>;
  try {
    values = await worldPostconf(ctx);
  } catch (e) {
    note(e);
    return null;
  }
  const outbound = outboundIps(relay.kind === "ssh" ? relay.outboundIps : undefined, values);
  const helo = heloName(values);
  const zones = config.triage.blocklists;
  const blocklists = checkBlocklists(ctx, outbound.ips, zones, resolver, note);
  const rdns = Promise.all(
    outbound.ips.map((ip) =>
      rdnsLookup(ctx, ip, helo, resolver).catch((e): RdnsProbe => {
        note(e);
        return { ip, helo, status: "unknown", ptr: [], forward: [], evidence: [describeError(e)] };
      }),
    ),
  );
  const certFile = expandPostconf(values.smtpd_tls_cert_file ?? "", values).trim();
  const cert = certFile
    ? certEndDate(ctx, certFile).catch((e) => {
        note(e);
        return null;
      })
    : Promise.resolve(null);
  return {
    outbound,
    blocklists: await blocklists,
    rdns: await rdns,
    cert: await cert,
    certWarnDays: config.triage.certWarnDays,
  };
}
