/**
 * BENCH_CORES=split: the lab relay's processes (sshd and every session it forks, Postfix's master
 * and every daemon it spawns) on all CPUs but the last, and each measured client (the ssh of a
 * floor, the bot) on the last one. In production the bot and its relays are different machines;
 * on one small VM they otherwise share every core, and then whatever CPU a client spends slows
 * the relay's showq too. Unset ("shared", the default) keeps the lab as it always ran.
 */
import { existsSync } from "node:fs";
import { scanLabProcesses } from "../test/lab/lab.js";
import { exec } from "./lib.js";

export interface CoreSplit {
  /** taskset CPU list of the relay's processes */
  relay: string;
  /** taskset CPU list of a measured client */
  client: string;
}

/** The CPUs this process may run on, from `taskset -c -p` ("0-3,6"): a container's cpuset, not just a count. */
export async function allowedCpus(): Promise<number[]> {
  const r = await exec(["taskset", "-c", "-p", String(process.pid)], { keepStdout: true });
  const list = r.code === 0 ? r.stdout.split(":").pop()?.trim() : undefined;
  if (!list || !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(list))
    throw new Error(`taskset -c -p did not list this process's CPUs (exit ${r.code}): ${r.stderr.trim()}`);
  return list.split(",").flatMap((part) => {
    const [a, b = a] = part.split("-").map(Number) as [number, number?];
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

/**
 * The CPUs BENCH_CORES asks for, among `cpus` (allowedCpus()): null when shared, the relay on all but
 * the last and the client on the last when split. A value it cannot honour is an error, not a quiet default.
 */
export function coreSplit(value: string | undefined, cpus: number[]): CoreSplit | null {
  if (value === undefined || value === "" || value === "shared") return null;
  if (value !== "split")
    throw new Error(`BENCH_CORES is "shared" (default) or "split", not ${JSON.stringify(value)}`);
  if (cpus.length < 2)
    throw new Error(`BENCH_CORES=split needs at least 2 CPUs; this process may use ${cpus.length}`);
  return { relay: cpus.slice(0, -1).join(","), client: String(cpus.at(-1)) };
}

/** Pins every live process of the lab at root to `cpus`; what they fork later inherits it. */
export async function pinLab(root: string, cpus: string): Promise<number> {
  const procs = await scanLabProcesses(root);
  if (procs.length === 0) throw new Error(`no process of the lab at ${root} is running`);
  for (const p of procs) {
    const r = await exec(["taskset", "-a", "-c", "-p", cpus, String(p.pid)], { keepStdout: true });
    // A process that ended since the scan needs no pinning.
    if (r.code !== 0 && existsSync(`/proc/${p.pid}`))
      throw new Error(`taskset could not pin ${p.comm} (pid ${p.pid}): ${r.stderr.trim()}`);
  }
  return procs.length;
}
