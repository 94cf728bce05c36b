import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { decide } from "../../src/changes/approval.js";
import { RunnerPool } from "../../src/relay/collect.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import "../db/types.js";
import { closedRelaysConfig } from "../helpers/config.js";

const url = inject("postgresUrl");

describe("two bot replicas on one PostgreSQL database", () => {
  it("run an approved request once when two approvers press at the same moment", async () => {
    // A relay on a closed loopback port: execution fails fast, but it is recorded each time it runs.
    const config = closedRelaysConfig(["relay-pg"], {
      access: { approvers: ["UBOB", "UCAROL"] },
      probes: { timeout: "2s", listingTimeout: "2s" },
    });
    const [s1, s2] = [await openPostgresStore(url, { max: 2 }), await openPostgresStore(url, { max: 2 })];
    const slack = { post: async () => "1.1", update: async () => {}, groupMembers: async () => [] };
    const now = Date.now();
    const ticket = `PG-${Math.floor(Math.random() * 1e6)}`;
    const r = await s1.approvals.create({
      id: randomUUID(),
      relay: "relay-pg",
      action: "hold",
      selector: "3F1A61A0A1",
      ticket,
      reason: "",
      requester: "UALICE",
      channelId: "CPG",
      messageTs: null,
      createdAtMs: now,
      expiresAtMs: now + 15 * 60_000,
      frozen: [
        {
          queueId: "3F1A61A0A1",
          queueName: "deferred",
          arrivalTime: 1,
          sender: "a@b.tld",
          recipientDomains: ["c.tld"],
        },
      ],
      command: "postsuper -h - deferred",
    });
    const deps = (store: typeof s1) => ({ config, pool: new RunnerPool(), nowMs: Date.now, store, slack });
    const answers = await Promise.all([
      decide(r.id, "UBOB", "approve", deps(s1)),
      decide(r.id, "UCAROL", "approve", deps(s2)),
    ]);
    const ran = answers.filter((a) => /^Request (done|failed)/.test(a.message));
    expect(ran).toHaveLength(1);
    expect(answers.filter((a) => /Someone acted on that request first|already/.test(a.message))).toHaveLength(
      1,
    );
    const executions = (await s2.audit.list({ ticket, limit: 20 })).filter((e) => e.kind === "execute");
    expect(executions).toHaveLength(1);
    expect((await s1.approvals.get(r.id))?.status).toBe("failed");
    await s1.close();
    await s2.close();
  });
});
