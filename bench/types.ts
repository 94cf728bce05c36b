/** The shapes a bench run records; run.ts fills them, report.ts renders them (no import cycle). */
import type { CoreSplit } from "./cores.js";
import type { Measured, machine } from "./lib.js";
import type { Comparison } from "./pflogsumm.js";

export interface Series {
  name: string;
  what: string;
  runs: Measured[];
}

export interface BenchResults {
  date: string;
  machine: Awaited<ReturnType<typeof machine>>;
  n: number;
  queueBuild: string[];
  /** NODE_OPTIONS of every bot process (as deploy/mailq-bot.service sets it). */
  botNodeOptions: string;
  /** BENCH_CORES=split's CPUs; null (or absent, in older results): the relay and the clients share every core. */
  cores?: CoreSplit | null;
  fill: {
    smtpMessages: number;
    smtpSeconds: number;
    settleSeconds: number;
    cloned: number;
    cloneSeconds: number;
  };
  queueOnDisk: Record<string, number>;
  listed: number;
  instanceSettings: string[];
  queue: Series[];
  cards: { entries: number; source: string; cardJsonBytes: number }[];
  firstAnswers: {
    series: string;
    entriesRead: number;
    complete: boolean;
    messages: number;
    causesFromLog: boolean;
    countsExact: boolean;
  }[];
  log: { lines: number; bytes: number; series: Series[]; comparison: Comparison } | null;
  parser: { series: Series; result: Record<string, unknown> } | null;
}
