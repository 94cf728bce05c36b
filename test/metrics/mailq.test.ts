import { describe, expect, it } from "vitest";
import { buildSnapshot, type RelaySnapshot } from "../../src/analysis/snapshot.js";
import {
  createMailqMetrics,
  MAX_REASON_LABEL,
  meteredRunner,
  recordApprovalExecuted,
  recordSnapshot,
} from "../../src/metrics/mailq.js";
import type { CommandRunner } from "../../src/relay/runner.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { newApproval } from "../store/contract.js";
import { postfixDown } from "../watch/helpers.js";
import { parseExposition, value } from "./exposition.js";

function snapshot(relay: string, extra: Partial<RelaySnapshot> = {}): RelaySnapshot {
  return {
    ...buildSnapshot({ relay, takenAtMs: 0, listingComplete: true, probeErrors: [] }),
    ...extra,
  };
}

describe("the app's prom-client registry", () => {
  it("a cause with quotes, backslashes and a newline reads back exactly", async () => {
    const m = createMailqMetrics();
    const nasty = 'host said: "450 4.7.1" \\ try C:\\queue\nlater';
    recordSnapshot(m, snapshot("r", { topReasons: [{ reason: nasty, class: "other", count: 3 } as never] }));
    const text = await m.render();
    expect(text).toContain('reason="host said: \\"450 4.7.1\\" \\\\ try C:\\\\queue\\nlater"');
    expect(value(parseExposition(text), "mailq_deferral_reason_recipients", { reason: nasty })).toBe(3);
  });

  it("serves the process and Node metrics: memory, event-loop lag, GC, handles", async () => {
    const e = parseExposition(await createMailqMetrics().render());
    for (const [name, type] of [
      ["process_resident_memory_bytes", "gauge"],
      ["process_cpu_seconds_total", "counter"],
      ["nodejs_heap_size_used_bytes", "gauge"],
      ["nodejs_eventloop_lag_seconds", "gauge"],
      ["nodejs_gc_duration_seconds", "histogram"],
      ["nodejs_active_handles_total", "gauge"],
    ] as const)
      expect(e.types.get(name), name).toBe(type);
    expect(value(e, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });

  it("each app has its own registry: two of them in one process neither collide nor share numbers", async () => {
    const a = createMailqMetrics();
    const b = createMailqMetrics();
    recordApprovalExecuted(a, "release", "done");
    expect(a.registry).not.toBe(b.registry);
    expect(
      value(parseExposition(await a.render()), "mailq_approvals_executed_total", { action: "release" }),
    ).toBe(1);
    expect(
      value(parseExposition(await b.render()), "mailq_approvals_executed_total", { action: "release" }),
    ).toBeUndefined();
  });

  it("a store that does not answer is reported and the rest still renders", async () => {
    const m = createMailqMetrics();
    const store = openSqliteStore(":memory:");
    m.watchStore(store);
    await store.approvals.create(newApproval());
    expect(value(parseExposition(await m.render()), "mailq_approvals_pending")).toBe(1);
    await store.close();
    recordSnapshot(m, snapshot("r"));
    const errors: unknown[] = [];
    const e = parseExposition(await m.render((x) => errors.push(x)));
    expect(value(e, "mailq_relay_up", { relay: "r" })).toBe(1);
    expect(String(errors[0])).toMatch(/not open/);
  });
});

describe("mailq metrics from snapshots", () => {
  it("a relay whose Postfix is stopped is down, and its queue is still counted", async () => {
    const m = createMailqMetrics();
    recordSnapshot(
      m,
      postfixDown(snapshot("r", { queues: { maildrop: 0, incoming: 0, active: 0, deferred: 40, hold: 2 } })),
    );
    const e = parseExposition(await m.render());
    expect(value(e, "mailq_relay_up", { relay: "r" })).toBe(0);
    expect(value(e, "mailq_queue_messages", { relay: "r", queue: "deferred" })).toBe(40);
  });

  it("queue depth per relay and queue, top causes by class, relay up", async () => {
    const m = createMailqMetrics();
    recordSnapshot(
      m,
      snapshot("relay-a", {
        queues: { maildrop: 0, incoming: 1, active: 2, deferred: 30, hold: 4 },
        topReasons: [
          { reason: 'refused "550" \\ x', class: "policy", count: 20 } as never,
          { reason: "connect timed out", class: "timeout", count: 10 } as never,
        ],
      }),
    );
    const e = parseExposition(await m.render());
    expect(value(e, "mailq_queue_messages", { relay: "relay-a", queue: "deferred" })).toBe(30);
    expect(value(e, "mailq_queue_messages", { relay: "relay-a", queue: "hold" })).toBe(4);
    expect(value(e, "mailq_relay_up", { relay: "relay-a" })).toBe(1);
    expect(
      value(e, "mailq_deferral_reason_recipients", { relay: "relay-a", reason: 'refused "550" \\ x' }),
    ).toBe(20);
    expect(value(e, "mailq_deferral_reason_recipients", { class: "timeout" })).toBe(10);
  });

  it("old causes disappear when they leave the top list; long ones are cut", async () => {
    const m = createMailqMetrics();
    const long = "x".repeat(500);
    recordSnapshot(
      m,
      snapshot("r", { topReasons: [{ reason: "old cause", class: "other", count: 5 } as never] }),
    );
    recordSnapshot(m, snapshot("r", { topReasons: [{ reason: long, class: "other", count: 7 } as never] }));
    const e = parseExposition(await m.render());
    const reasons = e.samples.filter((s) => s.name === "mailq_deferral_reason_recipients");
    expect(reasons).toHaveLength(1);
    expect(reasons[0]?.labels.reason).toHaveLength(MAX_REASON_LABEL);
    expect(reasons[0]?.value).toBe(7);
  });

  it("a partial listing updates queue counts but keeps the last complete causes", async () => {
    const m = createMailqMetrics();
    recordSnapshot(m, snapshot("r", { topReasons: [{ reason: "full", class: "other", count: 9 } as never] }));
    recordSnapshot(
      m,
      snapshot("r", {
        queues: { maildrop: 0, incoming: 0, active: 0, deferred: 99, hold: 0 },
        complete: false,
        listing: { complete: false, entriesRead: 3, parseErrors: 0, shareRead: 0.03, countsExact: true },
        topReasons: [{ reason: "partial", class: "other", count: 1 } as never],
      }),
    );
    const e = parseExposition(await m.render());
    expect(value(e, "mailq_queue_messages", { relay: "r", queue: "deferred" })).toBe(99);
    expect(value(e, "mailq_deferral_reason_recipients", { reason: "full" })).toBe(9);
    expect(value(e, "mailq_deferral_reason_recipients", { reason: "partial" })).toBeUndefined();
  });

  it("a relay that cannot be reached: up 0, a connect failure, no stale queue numbers", async () => {
    const m = createMailqMetrics();
    recordSnapshot(
      m,
      snapshot("r", { queues: { maildrop: 0, incoming: 0, active: 0, deferred: 5, hold: 0 } }),
    );
    recordSnapshot(m, { ...snapshot("r"), ok: false, error: "no SSH answer in time" });
    recordSnapshot(m, { ...snapshot("r"), ok: false, error: "again" }, { countFailures: false });
    const e = parseExposition(await m.render());
    expect(value(e, "mailq_relay_up", { relay: "r" })).toBe(0);
    expect(value(e, "mailq_probe_failures_total", { relay: "r", probe: "connect" })).toBe(1);
    expect(value(e, "mailq_queue_messages", { relay: "r", queue: "deferred" })).toBeUndefined();
  });

  it("probe failures count per probe; approvals executed by action and outcome", async () => {
    const m = createMailqMetrics();
    const errs = [
      { probe: "mail log", message: "x" },
      { probe: "df -i", message: "y" },
    ];
    recordSnapshot(m, snapshot("r", { probeErrors: errs }));
    recordSnapshot(m, snapshot("r", { probeErrors: errs.slice(0, 1) }));
    recordApprovalExecuted(m, "release", "done");
    recordApprovalExecuted(m, "release", "done");
    recordApprovalExecuted(m, "delete", "failed");
    const e = parseExposition(await m.render());
    expect(value(e, "mailq_probe_failures_total", { relay: "r", probe: "mail log" })).toBe(2);
    expect(value(e, "mailq_probe_failures_total", { relay: "r", probe: "df -i" })).toBe(1);
    expect(value(e, "mailq_approvals_executed_total", { action: "release", outcome: "done" })).toBe(2);
    expect(value(e, "mailq_approvals_executed_total", { action: "delete", outcome: "failed" })).toBe(1);
    expect(e.types.get("mailq_approvals_executed_total")).toBe("counter");
  });

  it("labels a command with the probe name it carries, else with its program past sudo", async () => {
    const m = createMailqMetrics();
    const inner: CommandRunner = {
      relay: "r",
      run: async () => ({ code: 0, stdout: "", stderr: "", timedOut: false }),
      close: async () => {},
    };
    const r = meteredRunner(m, inner, () => 0);
    await r.run(["sudo", "-n", "find", "/q/deferred"], { timeoutMs: 1000, probe: "find queues" });
    await r.run(["sudo", "-n", "/usr/sbin/postsuper", "-H", "-"], { timeoutMs: 1000 });
    const e = parseExposition(await m.render());
    expect(value(e, "mailq_probe_duration_seconds_count", { relay: "r", probe: "find queues" })).toBe(1);
    expect(value(e, "mailq_probe_duration_seconds_count", { relay: "r", probe: "postsuper" })).toBe(1);
  });

  it("a metered runner times each command, failed ones too", async () => {
    const m = createMailqMetrics();
    let t = 1000;
    const inner: CommandRunner = {
      relay: "r",
      async run(argv) {
        t += argv[0] === "ps" ? 250 : 3000;
        if (argv[0] === "boom") throw new Error("channel closed");
        return { code: 0, stdout: "", stderr: "", timedOut: false };
      },
      async close() {},
    };
    const r = meteredRunner(m, inner, () => t);
    await r.run(["ps", "-eo", "pid"], { timeoutMs: 1000 });
    await expect(r.run(["boom"], { timeoutMs: 1000 })).rejects.toThrow("channel closed");
    const e = parseExposition(await m.render());
    expect(value(e, "mailq_probe_duration_seconds_sum", { relay: "r", probe: "ps" })).toBe(0.25);
    expect(value(e, "mailq_probe_duration_seconds_bucket", { relay: "r", probe: "ps", le: "0.1" })).toBe(0);
    expect(value(e, "mailq_probe_duration_seconds_bucket", { relay: "r", probe: "ps", le: "0.25" })).toBe(1);
    expect(value(e, "mailq_probe_duration_seconds_count", { relay: "r", probe: "boom" })).toBe(1);
  });
});
