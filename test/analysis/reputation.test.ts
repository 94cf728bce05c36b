import { describe, expect, it } from "vitest";
import { LogFactsAccumulator } from "../../src/analysis/log-facts.js";
import { QueueAccumulator } from "../../src/analysis/queue-summary.js";
import {
  blocklistStatus,
  dnsblQuery,
  expandPostconf,
  heloName,
  outboundIps,
  ptrName,
  rdnsVerdict,
  reputationWarning,
} from "../../src/analysis/reputation.js";
import { buildSnapshot } from "../../src/analysis/snapshot.js";
import { triage } from "../../src/analysis/triage/index.js";
import { statusCard } from "../../src/cards/status.js";
import { triageCard } from "../../src/cards/triage.js";
import { parseDigRecords } from "../../src/relay/triage-probes.js";

const NOW = Date.UTC(2026, 10, 30, 14, 30, 0);

describe("blocklist and reverse-DNS names", () => {
  it("reverses IPv4 and IPv6 under the zone", () => {
    expect(dnsblQuery("192.0.2.7", "zen.example.")).toBe("7.2.0.192.zen.example");
    expect(ptrName("127.0.0.10")).toBe("10.0.0.127.in-addr.arpa");
    expect(ptrName("2001:db8::1")).toBe(
      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
    );
  });

  it.each([
    ["NOERROR", ["127.0.0.2"], "listed"],
    ["NXDOMAIN", [], "not listed"],
    ["TIMEOUT", [], "unknown"],
    ["SERVFAIL", [], "unknown"],
    ["REFUSED", [], "unknown"],
    // Spamhaus' answer to queries through public resolvers: a refusal, not a listing
    ["NOERROR", ["127.255.255.254"], "unknown"],
  ] as const)("%s %j → %s (a zone that does not answer is never 'not listed')", (status, answers, want) => {
    expect(blocklistStatus(status, [...answers])).toBe(want);
  });

  it("reads dig's answers of the asked type only", () => {
    const out = `;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n\n;; ANSWER SECTION:\n10.0.0.127.in-addr.arpa. 0 IN PTR mail.ptr.lab.test.\n\n;; Query time: 0 msec\n`;
    expect(parseDigRecords("PTR", out, 0, false, "dig")).toEqual({
      status: "NOERROR",
      answers: ["mail.ptr.lab.test"],
      command: "dig",
    });
    expect(parseDigRecords("A", ";; no servers could be reached\n", 9, false, "dig").status).toBe("TIMEOUT");
  });
});

describe("outbound addresses and the HELO name, from the config and postconf", () => {
  it("config first, then smtp_bind_address(6); nothing else is guessed", () => {
    expect(outboundIps(["192.0.2.1"], { smtp_bind_address: "198.51.100.1" })).toEqual({
      ips: ["192.0.2.1"],
      source: "config (outboundIps)",
    });
    expect(outboundIps(undefined, { smtp_bind_address: "198.51.100.1", smtp_bind_address6: "" })).toEqual({
      ips: ["198.51.100.1"],
      source: "postconf smtp_bind_address",
    });
    expect(outboundIps([], { smtp_bind_address: "not-an-ip" })).toEqual({ ips: [], source: "" });
  });

  it("expands $myhostname and $config_directory (also in braces) as Postfix would", () => {
    const v = {
      myhostname: "mx1.example.com",
      config_directory: "/etc/postfix",
      smtp_helo_name: "$myhostname",
    };
    expect(heloName(v)).toBe("mx1.example.com");
    expect(heloName({ ...v, smtp_helo_name: "Out.Example.com." })).toBe("out.example.com");
    expect(expandPostconf(["$", "{config_directory}/cert.pem"].join(""), v)).toBe("/etc/postfix/cert.pem");
    expect(expandPostconf("$unknown/x", v)).toBe("$unknown/x");
  });

  it.each([
    [{ status: "NXDOMAIN", names: [] }, null, "missing"],
    [{ status: "SERVFAIL", names: [] }, null, "unknown"],
    [
      { status: "NOERROR", names: ["mx1.example.com"] },
      { status: "NOERROR", addresses: ["192.0.2.1"] },
      "match",
    ],
    [
      { status: "NOERROR", names: ["other.example.com"] },
      { status: "NOERROR", addresses: ["192.0.2.1"] },
      "mismatch",
    ],
    [{ status: "NOERROR", names: ["mx1.example.com"] }, { status: "NXDOMAIN", addresses: [] }, "unconfirmed"],
    [{ status: "NOERROR", names: ["mx1.example.com"] }, { status: "TIMEOUT", addresses: [] }, "unknown"],
  ] as const)("PTR %j, forward %j → %s", (ptr, fwd, want) => {
    expect(
      rdnsVerdict(
        "192.0.2.1",
        "mx1.example.com",
        { status: ptr.status, names: [...ptr.names] },
        fwd && { status: fwd.status, addresses: [...fwd.addresses] },
      ),
    ).toBe(want);
  });
});

/** Real Postfix lines (from the lab's bounce relay), with times spread as asked. */
function bounceLog(times: number[], opts: { ndrFails?: boolean } = {}) {
  const acc = new LogFactsAccumulator("/var/log/mail.log", NOW);
  const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "+00:00");
  times.forEach((ms, i) => {
    const id = `A${String(i).padStart(9, "0")}`;
    const ndr = `B${String(i).padStart(9, "0")}`;
    acc.addLine(
      `${at(ms)} relay postfix/smtp[11210]: ${id}: to=<nouser${i}@policy.lab.test>, relay=127.0.0.1[127.0.0.1]:40079, delay=0.32, delays=0.01/0.21/0.05/0.06, dsn=5.1.1, status=bounced (host 127.0.0.1[127.0.0.1] said: 550 5.1.1 The email account that you tried to reach does not exist. (in reply to RCPT TO command))`,
    );
    acc.addLine(`${at(ms)} relay postfix/bounce[11220]: ${id}: sender non-delivery notification: ${ndr}`);
    if (opts.ndrFails)
      acc.addLine(
        `${at(ms)} relay postfix/smtp[11217]: ${ndr}: to=<app@forged.example.internal>, relay=none, delay=0, delays=0/0/0/0, dsn=5.4.4, status=bounced (Host or domain name not found. Name service error for name=forged.example.internal type=A: Host not found)`,
      );
  });
  acc.addLine(
    `${at(NOW)} relay postfix/smtp[11235]: D8AF119A245: to=<dmarc1@policy.lab.test>, relay=127.0.0.1[127.0.0.1]:40079, conn_use=2, delay=0.28, delays=0.01/0.22/0/0.06, dsn=5.7.26, status=bounced (host 127.0.0.1[127.0.0.1] said: 550 5.7.26 Unauthenticated email from forged.example.internal is not accepted due to domain's DMARC policy. (in reply to RCPT TO command))`,
  );
  acc.addLine(
    `${at(NOW)} relay postfix/smtpd[11300]: NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 554 5.7.1 <victim@elsewhere.example>: Relay access denied; from=<spam@forged.example.internal> to=<victim@elsewhere.example> proto=ESMTP helo=<client.lab.test>`,
  );
  // Postfix's default smtpd_relay_restrictions end in defer_unauth_destination: 454 4.7.1
  acc.addLine(
    `${at(NOW)} relay postfix/smtpd[11301]: NOQUEUE: reject: RCPT from probe.example[198.51.100.9]: 454 4.7.1 <x@elsewhere.example>: Relay access denied; from=<a@b.example> to=<x@elsewhere.example> proto=ESMTP helo=<probe>`,
  );
  return acc.facts();
}

/** A relay with an empty queue, taken at NOW. */
const emptySnapshot = (relay: string) =>
  buildSnapshot({
    relay,
    takenAtMs: NOW,
    listingComplete: true,
    queue: new QueueAccumulator(Math.floor(NOW / 1000)).summary(10),
    top: 10,
    probeErrors: [],
  });

function triageOf(log: ReturnType<typeof bounceLog>) {
  return triage({ snapshot: emptySnapshot("r"), log, dns: [], tcp: [] });
}

describe("bounce storms and policy refusals from the log", () => {
  it("many bounces in the last minutes against a calm baseline → bounce-storm, with causes and forged senders", () => {
    const calm = Array.from({ length: 6 }, (_, i) => NOW - 60 * 60_000 + i * 10 * 60_000);
    const burst = Array.from({ length: 30 }, (_, i) => NOW - 120_000 + i * 1000);
    const log = bounceLog([...calm, ...burst], { ndrFails: true });
    expect(log.bounces.notificationsFailed).toBe(36);
    expect(log.smtpdRejects).toEqual([
      expect.objectContaining({
        client: "unknown[127.0.0.1]",
        count: 1,
        reason: "Relay access denied",
        dsn: "5.7.1",
      }),
      expect.objectContaining({ client: "probe.example[198.51.100.9]", count: 1, dsn: "4.7.1" }),
    ]);
    const t = triageOf(log);
    const storm = t.findings.find((f) => f.class === "bounce-storm");
    expect(storm?.evidence[0]).toMatch(
      /^\d+\.\d\/min now against a baseline of 0\.\d\/min over the \d+ min before$/,
    );
    expect(storm?.evidence.join("\n")).toContain("36 of the 36 non-delivery notifications");
    const policy = t.findings.filter((f) => f.class === "policy").map((f) => f.title);
    expect(policy).toEqual([
      "policy.lab.test refuse mail on SPF/DKIM/DMARC",
      "The relay's own smtpd refused 2 request(s) with 5.7.1/4.7.1 from 2 client(s)",
    ]);
  });

  it("the Slack card shows them with their levers and masks every mailbox in the quoted log lines", () => {
    const burst = Array.from({ length: 30 }, (_, i) => NOW - 120_000 + i * 1000);
    const card = JSON.stringify(triageCard([triageOf(bounceLog(burst, { ndrFails: true }))]).blocks);
    expect(card).toContain("`bounce-storm`");
    expect(card).toContain("`policy`");
    expect(card).toContain("550 5.7.26 Unauthenticated email from forged.example.internal");
    expect(card).not.toMatch(/nouser\d+@|dmarc1@|victim@|app@forged/);
  });

  it("the same bounces spread evenly over the window → no storm (that is the baseline)", () => {
    const even = Array.from({ length: 60 }, (_, i) => NOW - 59 * 60_000 + i * 60_000);
    const t = triageOf(bounceLog(even));
    expect(t.findings.find((f) => f.class === "bounce-storm")).toBeUndefined();
    expect(t.checklist.find((c) => c.step === "bounces")).toMatchObject({ ok: true });
  });
});

describe("the status card's blocklist line", () => {
  it("says which address is listed where and not to requeue ALL; nothing when clean or unknown", () => {
    const listed = {
      ip: "192.0.2.1",
      zone: "bl.example",
      status: "listed" as const,
      answers: ["127.0.0.2"],
      output: "",
    };
    const unknown = { ...listed, zone: "slow.example", status: "unknown" as const, answers: [] };
    const line = reputationWarning("relay-a", [listed, unknown]);
    expect(line).toBe(
      "relay-a is on a blocklist (192.0.2.1 on bl.example): do not requeue ALL into the listing; see /mailq triage relay-a for the delisting step",
    );
    expect(reputationWarning("relay-a", [unknown])).toBeNull();
    const s = emptySnapshot("relay-a");
    const card = statusCard([s], { nowMs: NOW, warnings: new Map([["relay-a", line ?? ""]]) });
    expect(JSON.stringify(card.blocks[1])).toContain("⛔ *relay-a is on a blocklist");
    expect(card.text).toContain("· ⛔ relay-a is on a blocklist");
    expect(JSON.stringify(statusCard([s], { nowMs: NOW }).blocks)).not.toContain("blocklist");
    // Several relays: a listed one is never folded into the "healthy" line, even with an empty queue.
    const fleet = statusCard([s, emptySnapshot("relay-b")], {
      nowMs: NOW,
      warnings: new Map([["relay-a", line ?? ""]]),
    });
    const blocks = JSON.stringify(fleet.blocks);
    expect(blocks).toContain("⛔ *relay-a is on a blocklist");
    expect(blocks).toMatch(/1 healthy relay\*[^"]*relay-b/);
    expect(fleet.text).toMatch(/^relay-a: .* · ⛔ relay-a is on a blocklist/m);
  });
});
