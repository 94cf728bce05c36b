/**
 * What /metrics promises scrapers: each metric family's type, help text and label names.
 * The baseline (fixtures/metrics-families.json) was recorded from the hand-written registry
 * before prom-client replaced it.
 */
import { buildSnapshot } from "../../src/analysis/snapshot.js";
import { observabilityRoutes, startObservabilityServer } from "../../src/metrics/http.js";
import {
  createMailqMetrics,
  meteredRunner,
  recordApprovalExecuted,
  recordSnapshot,
  registerRelays,
} from "../../src/metrics/mailq.js";
import type { CommandRunner } from "../../src/relay/runner.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { newApproval } from "../store/contract.js";
import { parseExposition } from "./exposition.js";

export interface Family {
  type: string;
  help: string;
  labels: string[];
  /** A histogram's bucket bounds (le), in order. */
  buckets?: string[];
}

/** Families by name, from an exposition; histogram series (_bucket, _sum, _count) fold into theirs. */
export function families(text: string): Record<string, Family> {
  const e = parseExposition(text);
  const out: Record<string, Family> = {};
  for (const [name, type] of e.types) out[name] = { type, help: e.help.get(name) ?? "", labels: [] };
  for (const s of e.samples) {
    const base = s.name.replace(/_(bucket|sum|count)$/, "");
    const f = out[s.name] ?? (out[base]?.type === "histogram" ? out[base] : undefined);
    if (!f) throw new Error(`sample ${s.name} has no # TYPE`);
    if (f.type === "histogram" && s.name.endsWith("_bucket")) {
      f.buckets ??= [];
      const le = s.labels.le ?? "";
      if (!f.buckets.includes(le)) f.buckets.push(le);
    }
    for (const l of Object.keys(s.labels))
      if (!(l === "le" && f.type === "histogram") && !f.labels.includes(l)) f.labels.push(l);
  }
  for (const f of Object.values(out)) f.labels.sort();
  return out;
}

/** Every family of the bot fed once through its public functions, then scraped over HTTP. */
export async function scrapeEveryFamily(): Promise<string> {
  const m = createMailqMetrics();
  const store = openSqliteStore(":memory:");
  m.watchStore(store);
  await store.approvals.create(newApproval());
  registerRelays(m, { relays: [{ name: "relay-b" }] as never });
  recordSnapshot(m, {
    ...buildSnapshot({ relay: "relay-a", takenAtMs: 0, listingComplete: true, probeErrors: [] }),
    topReasons: [{ reason: "connect timed out", class: "timeout", count: 3 } as never],
    probeErrors: [{ probe: "df -i", message: "no df" }],
  });
  recordApprovalExecuted(m, "release", "done");
  const runner: CommandRunner = {
    relay: "relay-a",
    run: async () => ({ code: 0, stdout: "", stderr: "", timedOut: false }),
    close: async () => {},
  };
  await meteredRunner(m, runner).run(["postqueue", "-j"], { timeoutMs: 1000 });
  const srv = await startObservabilityServer(observabilityRoutes({ store, metrics: m, startedAtMs: 0 }), {
    port: 0,
    host: "127.0.0.1",
  });
  try {
    return await (await fetch(`http://127.0.0.1:${srv.port}/metrics`)).text();
  } finally {
    await srv.close();
    await store.close();
  }
}
