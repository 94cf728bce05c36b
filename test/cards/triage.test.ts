import { describe, expect, it } from "vitest";
import type { Finding, RelayTriage } from "../../src/analysis/triage/index.js";
import { TRIAGE_ACTIONS, triageCard, triageText } from "../../src/cards/triage.js";

const finding = (cls: Finding["class"], share: number, extra: Partial<Finding> = {}): Finding => ({
  class: cls,
  share,
  scope: "queue",
  title: `${cls} title`,
  evidence: [`evidence for ${cls}`],
  recommendation: `lever for ${cls}`,
  destinations: [],
  ...extra,
});

const report = (relay: string, findings: Finding[], over: Partial<RelayTriage> = {}): RelayTriage => ({
  relay,
  ok: true,
  takenAt: "2026-11-22T12:00:00.000Z",
  queue: { messages: 181, recipients: 183, active: 0, deferred: 171, hold: 10, incoming: 0, maildrop: 0 },
  findings,
  unexplained: [],
  intake: null,
  checklist: [],
  settings: {},
  probeErrors: [],
  ...over,
});

type B = {
  type: string;
  text?: { text: string };
  elements?: { action_id?: string; value?: string; text?: unknown }[];
};

describe("the triage card", () => {
  it("shows findings in the order given (largest first), each with class, share, evidence and lever", () => {
    const card = triageCard([
      report("relay-a", [
        finding("config", 1, { scope: "relay", title: "qmgr is missing: the queue cannot drain" }),
        finding("network", 0.66, { sampleQueueId: "A1B2C3D4E5" }),
        finding("dns", 0.11),
      ]),
    ]);
    const texts = (card.blocks as B[]).map((b) => b.text?.text ?? "");
    expect(texts[1]).toMatch(
      /^\*1\. ⚙️ qmgr is missing: the queue cannot drain\* {2}· {2}`config` {2}· {2}stops the whole relay\n> `evidence for config`\n➡️ \*lever for config\*$/,
    );
    expect(texts[2]).toMatch(/^\*2\. 🔌 network title\* {2}· {2}`network` {2}· {2}66% of the queue/);
    expect(texts[3]).toMatch(/^\*3\. 🌐 dns title\*/);
    expect(card.text).toBe(
      "Triage: relay-a: config (stops the whole relay), network (66% of the queue), dns (11% of the queue)",
    );
    const actions = (card.blocks as B[]).find((b) => b.type === "actions");
    expect(actions?.elements?.map((e) => [e.action_id, JSON.parse(e.value ?? "")])).toEqual([
      [TRIAGE_ACTIONS.status, { relay: "relay-a" }],
      [TRIAGE_ACTIONS.inspect, { relay: "relay-a", queueId: "A1B2C3D4E5" }],
      [TRIAGE_ACTIONS.watch, { relay: "relay-a" }],
    ]);
  });

  it("stays within Slack's limits with many relays, findings and long evidence", () => {
    const long = "x".repeat(5000);
    const many = Array.from({ length: 12 }, (_, i) =>
      report(
        `relay-${i}`,
        Array.from({ length: 9 }, (_, k) =>
          finding("network", 0.5, {
            evidence: [long, long, long, long, long, long],
            recommendation: long,
            sampleQueueId: `ABCDEF${k}000`,
          }),
        ),
        { probeErrors: [long] },
      ),
    );
    const card = triageCard(many);
    expect(card.blocks.length).toBeLessThanOrEqual(50);
    expect(card.text.length).toBeLessThanOrEqual(3000);
    for (const b of card.blocks as B[]) {
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      for (const e of b.elements ?? []) if (e.value) expect(e.value.length).toBeLessThanOrEqual(2000);
    }
    // every relay still gets its buttons
    expect((card.blocks as B[]).filter((b) => b.type === "actions")).toHaveLength(12);
  });

  it("escapes Slack control characters from log lines and masks their addresses", () => {
    const card = triageCard([
      report("relay-a", [finding("network", 1, { evidence: ["to=<a@b> <!channel> & `x`"] })]),
    ]);
    const text = (card.blocks as B[])[1]?.text?.text ?? "";
    expect(text).toContain("to=&lt;a…@b&gt; &lt;!channel&gt; &amp; 'x'");
    expect(text).not.toContain("<!channel>");
  });

  it("says so when a relay does not answer, without buttons", () => {
    const card = triageCard([
      report("relay-x", [], {
        ok: false,
        error: "relay-x (127.0.0.1:1): connection refused. Check that sshd runs",
      }),
    ]);
    expect(card.blocks).toHaveLength(1);
    expect((card.blocks[0] as B).text?.text).toMatch(
      /^\*Triage of relay-x\*: the relay did not answer — relay-x \(127\.0\.0\.1:1\): connection refused/,
    );
    expect(triageText([report("relay-x", [], { ok: false, error: "boom" })])).toBe(
      "== triage of relay-x (read-only)\n   the relay did not answer: boom\n",
    );
  });
});
