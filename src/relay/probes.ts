import { LogAccumulator } from "../analysis/log-summary.js";
import type { QueueAccumulator } from "../analysis/queue-summary.js";
import { createLineSplitter } from "../parsers/lines.js";
import { CONCURRENCY_KEYS } from "../parsers/postconf.js";
import { isQueueName, parsePostqueueJsonLine, QUEUE_NAMES, type QueueName } from "../parsers/postqueue.js";
import { withSudo } from "./argv.js";
import type { CommandRunner, RunResult } from "./runner.js";

/**
 * The fixed catalogue of read-only probes. Every argv is built here from constants and
 * from values the relay itself reported (its queue_directory); nothing typed in Slack
 * or on a command line ever reaches one.
 */
export const POSTCONF_KEYS = [
  "queue_directory",
  "maillog_file",
  "syslog_name",
  "mail_version",
  "maximal_queue_lifetime",
  "bounce_queue_lifetime",
  ...CONCURRENCY_KEYS,
  "enable_long_queue_ids",
] as const;

export interface ProbeContext {
  runner: CommandRunner;
  /** Prefix commands that need root with `sudo -n`. */
  sudo: boolean;
  /** Absolute time (ms) by which every probe must have answered. */
  deadlineMs: number;
  nowMs: () => number;
}

export class ProbeFailure extends Error {
  constructor(
    readonly probe: string,
    message: string,
  ) {
    super(message);
  }
}

export function asRoot(ctx: Pick<ProbeContext, "sudo">, argv: string[]): string[] {
  return withSudo(ctx.sudo, argv);
}

/** Time left for one probe before the context's deadline; a failure naming it when none is. */
export function remaining(ctx: ProbeContext, probe: string): number {
  const ms = ctx.deadlineMs - ctx.nowMs();
  if (ms <= 0) throw new ProbeFailure(probe, `${probe}: no time left before the probe deadline`);
  return ms;
}

const SUDO_REFUSED = /sudo: a password is required|sudo: a terminal is required/;

/** Why a relay command failed, in words an operator can act on; `install` names its package. */
export function explain(probe: string, r: RunResult, install?: string): string {
  if (r.timedOut) return `${probe} did not finish before the probe deadline`;
  const err = r.stderr.trim().split("\n").slice(-2).join(" ").slice(0, 300);
  if (r.code === 127)
    return `${probe}: command not found on the relay${install ? ` (install ${install})` : ""}`;
  if (SUDO_REFUSED.test(err))
    return `${probe}: sudo -n asked for a password; grant the bot's user this command in sudoers`;
  if (/refused: not in the allowlist/.test(err))
    return `${probe}: the relay's mailq-bot-gate refused it; update the gate on the relay`;
  return `${probe} exited ${r.code ?? "by signal"}${err ? `: ${err}` : ""}`;
}

/** The Postfix programs whose journald lines report deliveries and deferrals. */
const DELIVERY_AGENTS = ["smtp", "error", "lmtp", "local", "virtual"];

/** The last `lines` lines of a mail log file, or of journald (`source` "journald") for those programs. */
export function logTailArgv(ctx: ProbeContext, source: string, lines: number, programs: string[]): string[] {
  const n = String(lines);
  return asRoot(
    ctx,
    source.startsWith("/")
      ? ["tail", "-n", n, source]
      : ["journalctl", "--no-pager", "-q", "-o", "short-iso", "-n", n, ...programs.map((c) => `_COMM=${c}`)],
  );
}

/** Files under one directory of the queue, counted as they stream by: one byte each, no names. */
export async function countFiles(ctx: ProbeContext, dir: string, probe: string): Promise<number> {
  let n = 0;
  const r = await ctx.runner.run(asRoot(ctx, ["find", dir, "-type", "f", "-printf", "."]), {
    timeoutMs: remaining(ctx, probe),
    onStdout: (c) => {
      n += c.length;
    },
    probe,
  });
  if (r.timedOut || r.code !== 0) throw new ProbeFailure(probe, explain(probe, r));
  return n;
}

/**
 * ONE command counts every queue directory: `find` over the five queues, printing for each
 * directory its starting point and an "@" (`%H@`: no queue path holds one, and sudoers needs no escape for it), and one dot per file. The output is a few
 * hundred bytes of paths plus one byte per message, and the login cost of an SSH command is paid
 * once, not five times.
 */
export function queueCountArgv(ctx: Pick<ProbeContext, "sudo">, queueDirectory: string): string[] {
  return asRoot(ctx, [
    "find",
    ...QUEUE_NAMES.map((q) => `${queueDirectory}/${q}`),
    "-type",
    "d",
    "-printf",
    "%H@",
    "-o",
    "-type",
    "f",
    "-printf",
    ".",
  ]);
}

/**
 * Reads queueCountArgv's output as it streams: a path (it starts with "/") up to "@" names the
 * queue the dots after it belong to. A queue whose directory never appeared stays null.
 */
export class QueueCountReader {
  private readonly counts: Record<QueueName, number | null> = {
    maildrop: null,
    incoming: null,
    active: null,
    deferred: null,
    hold: null,
  };
  private current: QueueName | null = null;
  private path: string | null = null;

  push(chunk: Buffer | string): void {
    const text = typeof chunk === "string" ? chunk : chunk.toString("latin1");
    let i = 0;
    while (i < text.length) {
      if (this.path !== null) {
        const end = text.indexOf("@", i);
        if (end === -1) {
          this.path += text.slice(i);
          return;
        }
        this.enter(this.path + text.slice(i, end));
        this.path = null;
        i = end + 1;
        continue;
      }
      const slash = text.indexOf("/", i);
      const dots = (slash === -1 ? text.length : slash) - i;
      if (dots > 0 && this.current) this.counts[this.current] = (this.counts[this.current] ?? 0) + dots;
      if (slash === -1) return;
      this.path = "";
      i = slash;
    }
  }

  private enter(path: string): void {
    const name = path.split("/").at(-1) ?? "";
    this.current = isQueueName(name) ? name : null;
    if (this.current && this.counts[this.current] === null) this.counts[this.current] = 0;
  }

  result(): Record<QueueName, number | null> {
    return { ...this.counts };
  }
}

async function runChecked(ctx: ProbeContext, probe: string, argv: string[]): Promise<RunResult> {
  const r = await ctx.runner.run(argv, { timeoutMs: remaining(ctx, probe), probe });
  if (r.timedOut || r.code !== 0 || SUDO_REFUSED.test(r.stderr))
    throw new ProbeFailure(probe, explain(probe, r));
  return r;
}

export const probes = {
  postconf: (ctx: ProbeContext) => runChecked(ctx, "postconf", ["postconf", ...POSTCONF_KEYS]),

  /** Streams `postqueue -j` into the accumulator; the listing is never held whole. */
  async postqueue(ctx: ProbeContext, acc: QueueAccumulator): Promise<{ complete: boolean }> {
    const split = createLineSplitter((line) => {
      if (line.length === 0) return;
      const r = parsePostqueueJsonLine(line);
      if (r.ok) acc.add(r.value);
      else acc.addParseError();
    });
    const r = await ctx.runner.run(["postqueue", "-j"], {
      timeoutMs: remaining(ctx, "postqueue -j"),
      onStdout: (c) => split.push(c),
      probe: "postqueue -j",
    });
    split.end();
    if (r.timedOut) return { complete: false };
    if (r.code !== 0) throw new ProbeFailure("postqueue -j", explain("postqueue -j", r));
    return { complete: true };
  },

  /**
   * Files in every queue directory, in one command. A queue find could not read stays null;
   * the command's failure is reported only when no queue could be counted.
   */
  async queueFiles(ctx: ProbeContext, queueDirectory: string): Promise<Record<QueueName, number | null>> {
    const reader = new QueueCountReader();
    const r = await ctx.runner.run(queueCountArgv(ctx, queueDirectory), {
      timeoutMs: remaining(ctx, "find queues"),
      onStdout: (c) => reader.push(c),
      probe: "find queues",
    });
    const counts = reader.result();
    if (r.timedOut || (r.code !== 0 && Object.values(counts).every((n) => n === null)))
      throw new ProbeFailure("find queues", explain("find queues", r));
    return counts;
  },

  dfBytes: (ctx: ProbeContext, dir: string) => runChecked(ctx, "df -P", ["df", "-P", "-k", dir]),
  dfInodes: (ctx: ProbeContext, dir: string) => runChecked(ctx, "df -i", ["df", "-P", "-i", dir]),
  /** This instance's master PID (root-only file); several instances may share a host. */
  masterPid: (ctx: ProbeContext, queueDirectory: string) =>
    runChecked(ctx, "master.pid", asRoot(ctx, ["cat", `${queueDirectory}/pid/master.pid`])),
  ps: (ctx: ProbeContext) => runChecked(ctx, "ps", ["ps", "-eo", "pid,ppid,etimes,comm,args"]),
  loadavg: (ctx: ProbeContext) => runChecked(ctx, "loadavg", ["cat", "/proc/loadavg"]),
  /** PSI's I/O stall shares: world-readable, answers at once (kernels with PSI enabled only). */
  ioPressure: (ctx: ProbeContext) => runChecked(ctx, "io pressure", ["cat", "/proc/pressure/io"]),
  /** Holds the connection a second: only where /proc/pressure/io does not answer. */
  vmstat: (ctx: ProbeContext) => runChecked(ctx, "vmstat", ["vmstat", "1", "2"]),

  /**
   * The tail of the mail log, streamed into the accumulator. The source is the one the
   * relay uses: maillog_file when set, else /var/log/mail.log (or maillog), else journald.
   */
  async maillog(ctx: ProbeContext, maillogFile: string, lines: number): Promise<LogAccumulator> {
    // Where the relay logs: its maillog_file when set, else the usual files, else journald.
    const sources = maillogFile.startsWith("/")
      ? [maillogFile]
      : ["/var/log/mail.log", "/var/log/maillog", "journald"];
    const failures: string[] = [];
    for (const source of sources) {
      const acc = new LogAccumulator(source, ctx.nowMs());
      const split = createLineSplitter((l) => acc.addLine(l));
      const r = await ctx.runner.run(logTailArgv(ctx, source, lines, DELIVERY_AGENTS), {
        timeoutMs: remaining(ctx, "mail log"),
        onStdout: (b) => split.push(b),
        probe: "mail log",
      });
      split.end();
      if (!r.timedOut && r.code === 0) return acc;
      failures.push(explain(source, r));
    }
    throw new ProbeFailure("mail log", failures.join("; "));
  },
};

export { QUEUE_NAMES };
