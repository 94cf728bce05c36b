/**
 * A status as the running service does it for `/mailq status`: inside a process that started,
 * imported its modules and compiled its hot code long before the command arrived. One warm-up
 * status, then the measured one; each opens its own SSH connection (the service may even reuse
 * one). Prints {"wall","cpu","document"}: the measured status's seconds and its JSON document.
 *
 *   node bench/.build/bench/in-process.js --config FILE --relay NAME
 */
import { parseArgs } from "node:util";
import { statusCard } from "../src/cards/status.js";
import { loadConfig } from "../src/config.js";
import { statusDocument } from "../src/json/status-document.js";
import { RunnerPool } from "../src/relay/pool.js";
import { openStore } from "../src/store/open.js";
import { runStatus, type StatusAnswer } from "../src/usecases/status.js";

const { values } = parseArgs({ options: { config: { type: "string" }, relay: { type: "string" } } });
const config = loadConfig({ file: values.config, env: process.env, cwd: process.cwd() });

async function once(): Promise<StatusAnswer> {
  const pool = new RunnerPool(process.env, config.probes.compression, {
    maxConnections: config.probes.maxConnections,
  });
  const store = await openStore(config, process.env);
  // What the Slack command serialises: the Block Kit card, first and complete.
  const post = (a: StatusAnswer) =>
    JSON.stringify(
      statusCard(a.snapshots, { nowMs: Date.now(), progress: a.progress, warnings: a.warnings }),
    );
  try {
    return await runStatus(
      { config, pool, store, nowMs: Date.now },
      { relay: values.relay },
      { first: async (a) => void post(a), full: async (a) => void post(a) },
    );
  } finally {
    await pool.closeAll();
    await store.close();
  }
}

await once();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const answer = await once();
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  JSON.stringify({
    wall,
    cpu: (cpu.user + cpu.system) / 1e6,
    document: statusDocument(answer.snapshots, answer.progress),
  }),
);
