import { describe, expect, it } from "vitest";
import { QueueAccumulator } from "../../src/analysis/queue-summary.js";
import { buildSnapshot } from "../../src/analysis/snapshot.js";
import { LEVERS, triage } from "../../src/analysis/triage/index.js";

const NOW = Date.UTC(2026, 10, 22, 12, 30, 0);
const said = (host: string, reply: string) =>
  `host ${host}[192.0.2.25] said: ${reply} (in reply to RCPT TO command)`;

/** A queue whose deferrals are all remote replies a relay cannot fix by slowing down alone. */
function snapshot() {
  const acc = new QueueAccumulator(Math.floor(NOW / 1000));
  const add = (n: number, domain: string, reason: string) => {
    for (let i = 0; i < n; i++)
      acc.add({
        queueName: "deferred",
        queueId: `${domain.slice(0, 2).toUpperCase()}${String(i).padStart(8, "0")}`,
        arrivalTime: NOW / 1000 - 600,
        messageSize: 1000,
        forcedExpire: false,
        sender: "app@example.org",
        recipients: [{ address: `user${i}@${domain}`, delayReason: reason }],
      });
  };
  add(
    30,
    "outlook.com",
    said(
      "outlook-com.olc.protection.outlook.com",
      "451 4.7.650 The mail server [203.0.113.10] has been temporarily rate limited due to IP reputation. (S775)",
    ),
  );
  add(
    20,
    "gmail.com",
    said(
      "gmail-smtp-in.l.google.com",
      "452-4.2.2 The email account that you tried to reach is over quota. - gsmtp",
    ),
  );
  return buildSnapshot({
    relay: "relay-x",
    takenAtMs: NOW,
    listingComplete: true,
    queue: acc.summary(),
    probeErrors: [],
  });
}

describe("triage of policy and recipient causes", () => {
  it("makes findings of their own, with the lever for each, largest first", () => {
    const t = triage({ snapshot: snapshot(), log: null, dns: [], tcp: [] });
    expect(t.findings.map((f) => [f.class, f.share])).toEqual([
      ["policy", 0.6],
      ["recipient", 0.4],
    ]);
    const [policy, recipient] = t.findings;
    expect(policy?.title).toBe("Remote sites refuse on policy or reputation (4xx)");
    expect(policy?.recommendation).toContain(LEVERS.policy);
    expect(policy?.evidence.join("\n")).toContain("rate limited due to IP reputation. (S775)");
    expect(recipient?.title).toBe("Recipients' mailboxes are full, disabled or unknown (4xx)");
    expect(recipient?.recommendation).toContain("Nothing to change on the relay");
    expect(t.unexplained).toEqual([]);
  });
});
