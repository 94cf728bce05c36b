import { describe, expect, it } from "vitest";
import { auditText } from "../../src/cards/audit.js";
import type { AuditEntry } from "../../src/store/store.js";

const at = Date.UTC(2026, 10, 22, 13, 0, 0);
const entry = (over: Partial<AuditEntry>): AuditEntry => ({
  id: 1,
  atMs: at,
  kind: "request",
  actor: "UALICE",
  relay: "relay-a",
  ticket: "INC-1",
  requestId: "0b6f6c3e-8d1e-4a43-9b1e-6f1c1f0f2a11",
  detail: {},
  ...over,
});

describe("/mailq audit's text", () => {
  it("says who did what, where, under which ticket, and how it ended", () => {
    const t = auditText(
      [
        entry({
          kind: "execute",
          actor: "UBOB",
          detail: { action: "hold", result: { verification: "3 of 3 now on hold", skipped: [{}] } },
        }),
        entry({
          kind: "refuse",
          actor: "UALICE",
          detail: { decision: "approve", why: "You cannot approve <your own>" },
        }),
        entry({
          kind: "request",
          detail: { action: "hold", selector: "domain:a.tld", ids: ["A", "B", "C"], reason: "loop" },
        }),
        entry({ kind: "expire", actor: "mailq-bot" }),
      ],
      "INC-1",
    );
    expect(t).toContain("*Audit of INC-1*");
    expect(t).toContain(
      `<!date^${Date.UTC(2026, 10, 22, 13, 0, 0) / 1000}^{date_short} {time_secs}|2026-11-22 13:00 UTC> *execute* by <@UBOB> on relay-a ticket INC-1 (request 0b6f6c3e) — hold 3 of 3 now on hold · 1 skipped`,
    );
    expect(t).toContain("*refuse* by <@UALICE>");
    expect(t).toContain("approve refused: You cannot approve &lt;your own&gt;");
    expect(t).toContain("hold `domain:a.tld` → 3 IDs: _loop_");
    expect(t).toContain("*expire* by mailq-bot");
  });
  it("says when nothing matches", () => {
    expect(auditText([], "relay-z")).toBe("No audit entries for relay-z.");
  });
  it("stays within an ephemeral message's size", () => {
    const many = Array.from({ length: 200 }, (_, i) =>
      entry({
        id: i,
        kind: "request",
        detail: { selector: "x".repeat(500), reason: "y".repeat(300), ids: [] },
      }),
    );
    expect(auditText(many).length).toBeLessThanOrEqual(3900);
  });
});
