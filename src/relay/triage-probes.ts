import type { ProbeContext } from "./probes.js";

/** Names and addresses that may reach dig or nc: from the relay's own output, checked again here. */
export const HOST_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
export const IP_RE = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]{2,39})$/;

export interface DnsProbe {
  name: string;
  status: string;
  queryMs: number | null;
  answers: number;
  output: string;
}

export interface TcpProbe {
  host: string;
  port: number;
  ok: boolean;
  output: string;
}

const left = (ctx: ProbeContext) => Math.max(1, ctx.deadlineMs - ctx.nowMs());

/** `dig +tries=1 +time=2 MX NAME [@RESOLVER]`: the status and how long the resolver took. */
export async function digMx(ctx: ProbeContext, name: string, resolver?: string): Promise<DnsProbe> {
  if (!HOST_RE.test(name)) throw new Error(`refusing to look up "${name.slice(0, 60)}": not a host name`);
  if (resolver !== undefined && !IP_RE.test(resolver)) throw new Error("the resolver must be an IP address");
  const argv = ["dig", "+tries=1", "+time=2", "MX", name, ...(resolver ? [`@${resolver}`] : [])];
  const r = await ctx.runner.run(argv, { timeoutMs: Math.min(8000, left(ctx)) });
  const out = r.stdout;
  const status =
    /status: ([A-Z]+)/.exec(out)?.[1] ??
    (r.timedOut || /timed out|no servers could be reached/i.test(out) ? "TIMEOUT" : `exit ${r.code}`);
  const ms = /Query time: (\d+) msec/.exec(out);
  const answers = Number(/ANSWER: (\d+)/.exec(out)?.[1] ?? 0);
  return {
    name,
    status,
    queryMs: ms ? Number(ms[1]) : null,
    answers,
    output: `dig MX ${name}: ${status}${ms ? `, ${ms[1]} ms` : ""}`,
  };
}

/** `nc -vz -w 3 HOST PORT`: can this relay open a TCP connection there at all? */
export async function tcpConnect(ctx: ProbeContext, host: string, port: number): Promise<TcpProbe> {
  if (!HOST_RE.test(host) && !IP_RE.test(host))
    throw new Error(`refusing to probe "${host.slice(0, 60)}": not a host or address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`refusing to probe port ${port}`);
  const r = await ctx.runner.run(["nc", "-vz", "-w", "3", host, String(port)], {
    timeoutMs: Math.min(8000, left(ctx)),
  });
  const said = `${r.stderr}${r.stdout}`.trim().split("\n").pop() ?? "";
  return {
    host,
    port,
    ok: r.code === 0,
    output: `nc ${host} ${port}: ${said.slice(0, 200) || (r.code === 0 ? "succeeded" : `exit ${r.code}`)}`,
  };
}
