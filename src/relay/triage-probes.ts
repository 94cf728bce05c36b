import { type LogFacts, LogFactsAccumulator } from "../analysis/log-facts.js";
import {
  type BlocklistProbe,
  blocklistStatus,
  type CertProbe,
  dnsblQuery,
  ptrName,
  type RdnsProbe,
  rdnsVerdict,
} from "../analysis/reputation.js";
import type { DnsProbe, TcpProbe } from "../analysis/triage/index.js";
import { isDnsName, isHostName, isIp } from "../parsers/hosts.js";
import { createLineSplitter } from "../parsers/lines.js";
import { isPlainAbsolutePath } from "../parsers/path.js";
import { parsePostconf } from "../parsers/postconf.js";
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
  "dig +tries=1 +time=2 A <ip reversed>.<blocklist zone> [@<ip>]",
  "dig +tries=1 +time=2 PTR <ip reversed>.in-addr.arpa [@<ip>]",
  "dig +tries=1 +time=2 A|AAAA <PTR name> [@<ip>]",
  "postconf myhostname mydomain smtp_helo_name smtp_bind_address smtp_bind_address6 smtpd_tls_cert_file config_directory",
  "openssl x509 -enddate -noout -in <smtpd_tls_cert_file>",
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

/** What checklist B reads from postconf: the HELO name, bound addresses, the certificate. */
export const WORLD_POSTCONF_KEYS = [
  "myhostname",
  "mydomain",
  "smtp_helo_name",
  "smtp_bind_address",
  "smtp_bind_address6",
  "smtpd_tls_cert_file",
  "config_directory",
] as const;

export async function worldPostconf(ctx: ProbeContext): Promise<Record<string, string>> {
  const probe = "postconf (triage)";
  const argv = ["postconf", ...WORLD_POSTCONF_KEYS];
  const r = await ctx.runner.run(argv, { timeoutMs: remaining(ctx, probe) });
  if (r.code !== 0) throw new ProbeFailure(probe, explain(`${probe}: ${argv.join(" ")}`, r));
  return parsePostconf(r.stdout);
}

export interface DigAnswer {
  status: string;
  answers: string[];
  /** The argv, as the operator would type it. */
  command: string;
}

/** `dig +tries=1 +time=2 TYPE NAME [@RESOLVER]`: the status and the answers of that type. */
export async function digRecords(
  ctx: ProbeContext,
  type: "A" | "AAAA" | "PTR",
  name: string,
  resolver?: string,
): Promise<DigAnswer> {
  const probe = `dig ${type} ${JSON.stringify(name.slice(0, 80))}`;
  if (!isDnsName(name))
    throw new ProbeFailure(probe, `refusing to look up ${JSON.stringify(name.slice(0, 80))}: not a DNS name`);
  if (resolver !== undefined && !isIp(resolver))
    throw new ProbeFailure(
      probe,
      `refusing resolver ${JSON.stringify(resolver.slice(0, 60))}: not an IP address`,
    );
  const argv = ["dig", "+tries=1", "+time=2", type, name, ...(resolver ? [`@${resolver}`] : [])];
  const r = await ctx.runner.run(argv, { timeoutMs: Math.min(8000, remaining(ctx, probe)) });
  if (r.code === 127 || /mailq-bot-gate: refused/.test(r.stderr))
    throw new ProbeFailure(probe, explain(probe, r, "bind9-dnsutils"));
  return parseDigRecords(type, r.stdout, r.code, r.timedOut, argv.join(" "));
}

export function parseDigRecords(
  type: string,
  out: string,
  code: number | null,
  timedOut: boolean,
  command: string,
): DigAnswer {
  const status =
    /status: ([A-Z]+)/.exec(out)?.[1] ??
    (timedOut || /timed out|no servers could be reached/i.test(out) ? "TIMEOUT" : `exit ${code}`);
  const answers: string[] = [];
  const section = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(out)?.[1] ?? "";
  for (const line of section.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[3] === type && f[4]) answers.push(f[4].replace(/\.$/, "").toLowerCase());
  }
  return { status, answers, command };
}

const said = (d: DigAnswer) =>
  d.status === "TIMEOUT"
    ? "no answer within 2 s"
    : d.answers.length
      ? `${d.status}, ${d.answers.slice(0, 4).join(" ")}`
      : d.status;

/** One outbound address against one DNS blocklist zone: listed, not listed, or unknown. */
export async function blocklistLookup(
  ctx: ProbeContext,
  ip: string,
  zone: string,
  resolver?: string,
): Promise<BlocklistProbe> {
  if (!isIp(ip))
    throw new ProbeFailure(
      `blocklist ${zone}`,
      `refusing ${JSON.stringify(ip.slice(0, 60))}: not an IP address`,
    );
  const d = await digRecords(ctx, "A", dnsblQuery(ip, zone), resolver);
  const status = blocklistStatus(d.status, d.answers);
  const why =
    status === "listed"
      ? `LISTED (${d.answers.join(" ")})`
      : status === "not listed"
        ? "not listed (NXDOMAIN)"
        : `unknown: ${d.status === "TIMEOUT" ? "the zone did not answer within 2 s" : d.answers.length ? `the list refused the query (${d.answers.join(" ")}); use a resolver of your own or the list's key-based zone` : `${d.status}`}`;
  return { ip, zone, status, answers: d.answers, output: `${d.command}: ${ip} on ${zone}: ${why}` };
}

/** PTR of the address, then the PTR name's addresses (forward-confirmed rDNS), against the HELO name. */
export async function rdnsLookup(
  ctx: ProbeContext,
  ip: string,
  helo: string,
  resolver?: string,
): Promise<RdnsProbe> {
  if (!isIp(ip))
    throw new ProbeFailure("reverse DNS", `refusing ${JSON.stringify(ip.slice(0, 60))}: not an IP address`);
  const ptr = await digRecords(ctx, "PTR", ptrName(ip), resolver);
  const evidence = [`${ptr.command}: ${said(ptr)}`];
  const first = ptr.answers[0];
  let forward: DigAnswer | null = null;
  if (ptr.status === "NOERROR" && first && isHostName(first)) {
    forward = await digRecords(ctx, ip.includes(":") ? "AAAA" : "A", first, resolver);
    evidence.push(`${forward.command}: ${said(forward)}`);
  }
  evidence.push(`HELO name: ${helo || "unknown"}`);
  const status = rdnsVerdict(
    ip,
    helo,
    { status: ptr.status, names: ptr.answers },
    forward ? { status: forward.status, addresses: forward.answers } : null,
  );
  return { ip, helo, status, ptr: ptr.answers, forward: forward?.answers ?? [], evidence };
}

/** `openssl x509 -enddate -noout -in FILE`: when the relay's own certificate stops being valid. */
export async function certEndDate(ctx: ProbeContext, file: string): Promise<CertProbe> {
  const probe = `openssl x509 -enddate (${file})`;
  if (!isPlainAbsolutePath(file))
    throw new ProbeFailure(probe, `refusing certificate path ${JSON.stringify(file.slice(0, 80))}`);
  const argv = ["openssl", "x509", "-enddate", "-noout", "-in", file];
  const r = await ctx.runner.run(argv, { timeoutMs: Math.min(8000, remaining(ctx, probe)) });
  const line = /^notAfter=(.+)$/m.exec(r.stdout)?.[1]?.trim();
  const ms = line ? Date.parse(line) : Number.NaN;
  if (r.code !== 0 || !Number.isFinite(ms))
    throw new ProbeFailure(
      probe,
      `${explain(probe, r, "openssl")}; the certificate must be readable by the bot's user (certificates are public; the key is not needed)`,
    );
  return { file, notAfterMs: ms, output: `${argv.join(" ")}: notAfter=${line}` };
}
