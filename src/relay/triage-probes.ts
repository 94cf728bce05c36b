import { type DnsProbe, isHostName, isIp, type TcpProbe } from "../analysis/triage.js";
import { createLineSplitter } from "../parsers/lines.js";
import { type LogFacts, LogFactsAccumulator } from "../parsers/maillog-warnings.js";
import { countFiles, explain, logTailArgv, type ProbeContext, ProbeFailure, remaining } from "./probes.js";

/**
 * Triage's own read-only probes, beside the status catalogue (probes.ts): dig and nc against
 * what the relay's deferrals name, and a second read of the mail log for Postfix's warnings.
 * Every argv is fixed here; names and addresses are validated again right before use, so a
 * hostile string from a log line can never become an option or reach a shell.
 */

/** The exact argvs triage may run, for tests and reviews: the read-only allowlist. */
export const TRIAGE_ARGV_SHAPES = [
  "dig +tries=1 +time=2 MX <host> [@<ip>]",
  "nc -vz -w 3 <host|ip> <port>",
  "tail -n <N> <maillog_file> | journalctl --no-pager -q -o short-iso -n <N> _COMM=…",
  "find <queue_directory>/corrupt -type f -printf .",
] as const;

/** `dig +tries=1 +time=2 MX NAME [@RESOLVER]`: the status, the resolver's time, the MX answers. */
export async function digMx(ctx: ProbeContext, name: string, resolver?: string): Promise<DnsProbe> {
  const probe = `dig MX ${JSON.stringify(name.slice(0, 60))}`;
  if (!isHostName(name))
    throw new ProbeFailure(
      probe,
      `refusing to look up ${JSON.stringify(name.slice(0, 60))}: not a host name`,
    );
  if (resolver !== undefined && !isIp(resolver))
    throw new ProbeFailure(
      probe,
      `refusing resolver ${JSON.stringify(resolver.slice(0, 60))}: not an IP address`,
    );
  const argv = ["dig", "+tries=1", "+time=2", "MX", name, ...(resolver ? [`@${resolver}`] : [])];
  const r = await ctx.runner.run(argv, { timeoutMs: Math.min(8000, remaining(ctx, probe)) });
  if (r.code === 127 || (r.timedOut && !r.stdout) || /mailq-bot-gate: refused/.test(r.stderr))
    throw new ProbeFailure(probe, explain(probe, r, "bind9-dnsutils"));
  return parseDig(name, resolver ?? null, r.stdout, r.code, r.timedOut);
}

/** dig's answer, as text. Exit 9 with "no servers could be reached" is a timeout, an answer too. */
export function parseDig(
  name: string,
  resolver: string | null,
  out: string,
  code: number | null,
  timedOut = false,
): DnsProbe {
  const status =
    /status: ([A-Z]+)/.exec(out)?.[1] ??
    (timedOut || /timed out|no servers could be reached/i.test(out) ? "TIMEOUT" : `exit ${code}`);
  const ms = /Query time: (\d+) msec/.exec(out);
  const queryMs = ms ? Number(ms[1]) : null;
  const exchanges: string[] = [];
  const answer = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(out)?.[1] ?? "";
  for (const line of answer.split("\n")) {
    const m = /^\S+\s+\d+\s+IN\s+MX\s+\d+\s+(\S+)$/.exec(line.trim());
    if (m?.[1] && m[1] !== ".") exchanges.push(m[1].replace(/\.$/, ""));
  }
  const at = resolver ? ` @${resolver}` : "";
  const detail =
    status === "TIMEOUT"
      ? "no answer within 2 s"
      : `${status}${queryMs !== null ? ` in ${queryMs} ms` : ""}${exchanges.length ? `, MX ${exchanges.slice(0, 3).join(" ")}` : status === "NOERROR" ? ", no MX" : ""}`;
  return {
    name,
    resolver,
    status,
    queryMs,
    exchanges,
    output: `dig +tries=1 +time=2 MX ${name}${at}: ${detail}`,
  };
}

/** `nc -vz -w 3 HOST PORT`: can this relay open a TCP connection there at all? */
export async function tcpConnect(
  ctx: ProbeContext,
  host: string,
  port: number,
  domain = "",
): Promise<TcpProbe> {
  const probe = `nc ${JSON.stringify(host.slice(0, 60))} ${port}`;
  if (!isHostName(host) && !isIp(host))
    throw new ProbeFailure(
      probe,
      `refusing to probe ${JSON.stringify(host.slice(0, 60))}: not a host or address`,
    );
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new ProbeFailure(probe, `refusing to probe port ${port}`);
  const r = await ctx.runner.run(["nc", "-vz", "-w", "3", host, String(port)], {
    timeoutMs: Math.min(8000, remaining(ctx, probe)),
  });
  if (r.code === 127 || /mailq-bot-gate: refused/.test(r.stderr))
    throw new ProbeFailure(probe, explain(probe, r, "netcat-openbsd"));
  return parseNc(host, port, domain, `${r.stderr}\n${r.stdout}`, r.code, r.timedOut);
}

export function parseNc(
  host: string,
  port: number,
  domain: string,
  text: string,
  code: number | null,
  timedOut = false,
): TcpProbe {
  const said = text
    .trim()
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();
  const ok = code === 0;
  const detail = timedOut
    ? "no answer before the deadline"
    : (said?.replace(/^nc: /, "").slice(0, 200) ?? (ok ? "succeeded" : `exit ${code}`));
  return {
    host,
    port,
    domain,
    ok,
    output: `nc -vz -w 3 ${host} ${port}${domain ? ` (${domain})` : ""}: ${detail}`,
  };
}

/**
 * The tail of the mail log again, into the facts triage needs (warnings, intake, per
 * destination next hops). Same sources as the status probe: the file, or journald.
 */
export async function logFacts(ctx: ProbeContext, source: string, lines: number): Promise<LogFacts> {
  const probe = "mail log (triage)";
  const argv = logTailArgv(ctx, source, lines, [
    "smtp",
    "error",
    "lmtp",
    "smtpd",
    "cleanup",
    "qmgr",
    "master",
    "postsuper",
    "pickup",
  ]);
  const acc = new LogFactsAccumulator(source, ctx.nowMs());
  const split = createLineSplitter((l) => acc.addLine(l));
  const r = await ctx.runner.run(argv, { timeoutMs: remaining(ctx, probe), onStdout: (b) => split.push(b) });
  split.end();
  if (r.timedOut || r.code !== 0) throw new ProbeFailure(probe, explain(`${probe}: ${argv.join(" ")}`, r));
  return acc.facts();
}

/** Files Postfix set aside in corrupt/: counted, never read. */
export const corruptFiles = (ctx: ProbeContext, queueDirectory: string): Promise<number> =>
  countFiles(ctx, `${queueDirectory}/corrupt`, "find corrupt");
