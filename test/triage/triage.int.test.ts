import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { main } from "../../src/cli.js";
import { type LabRelay, labExec, sendMail, startRelay } from "../lab/lab.js";

const lab = inject("lab");
const relayA = lab.relays.find((r) => r.name === "relay-a") as LabRelay;

interface Finding {
  class: string;
  share: number;
  title: string;
  evidence: string[];
  recommendation: string;
}

async function triageJson(relay: LabRelay, username = relay.username, sudo = false): Promise<Finding[]> {
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "mailq-triage-"));
  const cfg = {
    relays: [
      {
        name: relay.name,
        host: relay.host,
        port: relay.port,
        username,
        sudo,
        privateKeyPath: relay.privateKeyPath,
        hostKeyFingerprint: relay.hostKeyFingerprint,
        resolver: "127.0.0.1",
      },
    ],
  };
  writeFileSync(join(dir, "mailq.yaml"), stringify(cfg));
  let out = "";
  await main({
    argv: ["triage", "--json", "--config", join(dir, "mailq.yaml")],
    env: process.env,
    cwd: dir,
    stdout: (s) => {
      out += s;
    },
    stderr: () => {},
    nowMs: Date.now,
  });
  const doc = JSON.parse(out);
  expect(Object.keys(doc.relays[0])).toEqual(expect.arrayContaining(["relay", "findings"]));
  return doc.relays[0].findings;
}

/** Every queue file with its size and mtime: what "nothing written" means for the queue. */
async function queueFiles(relay: LabRelay): Promise<string> {
  const r = await labExec(relay, [
    "find",
    relay.queueDirectory,
    "-path",
    "*/pid",
    "-prune",
    "-o",
    "-type",
    "f",
    "-printf",
    "%P %s %T@\\n",
  ]);
  return r.stdout.split("\n").sort().join("\n");
}

describe("triage against the lab", () => {
  it("finds connection refused, 4xx throttling and DNS failure, each with evidence, largest first, and writes nothing", async () => {
    const before = await queueFiles(relayA);
    const logBefore = readFileSync(relayA.gateLogPath, "utf8").length;
    const findings = await triageJson(relayA, relayA.gateUsername, true);
    const byClass = (c: string) =>
      findings.find((f) => f.class === c && !f.title.startsWith("One destination"));
    expect(byClass("network")?.evidence.join("\n")).toMatch(/nc 127\.0\.0\.1 \d+: .*Connection refused/);
    expect(byClass("remote-throttling")?.evidence.join("\n")).toContain("451 4.7.1 Try again later");
    expect(byClass("dns")?.evidence.join("\n")).toMatch(/dig MX dnsfail\.lab\.test: SERVFAIL/);
    expect(byClass("dns")?.recommendation).toMatch(/^Do not flush: DNS lookups fail/);
    const shares = findings.map((f) => f.share);
    expect(shares).toEqual([...shares].sort((a, b) => b - a));
    expect(
      findings.some((f) => /^One destination holds \d+% of the queue: refused\.lab\.test$/.test(f.title)),
    ).toBe(true);
    expect(await queueFiles(relayA)).toBe(before);
    // triage ran through the relay-side gate: it allowed everything triage needed and refused nothing
    const added = readFileSync(relayA.gateLogPath, "utf8").slice(logBefore);
    expect(added).toMatch(/ALLOWED: probe: dig \+tries=1 \+time=2 MX dnsfail\.lab\.test @127\.0\.0\.1/);
    expect(added).not.toMatch(/REFUSED|postsuper/);
  });

  it("says qmgr is missing, first, when the queue manager is gone", async () => {
    const r = await startRelay(lab, "relay-noqmgr");
    const cf = join(r.configDir, "master.cf");
    writeFileSync(cf, readFileSync(cf, "utf8").replace(/^qmgr .*$/m, "#qmgr removed by the test"));
    await labExec(r, ["postfix", "-c", r.configDir, "reload"]);
    let findings: Finding[] = [];
    for (let i = 0; i < 20; i++) {
      findings = await triageJson(r);
      if (findings[0]?.title.startsWith("qmgr is missing")) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(findings[0]).toMatchObject({
      class: "config",
      share: 1,
      title: "qmgr is missing: the queue cannot drain",
    });
  });

  it("reports a milter that is down as a local service, with the log lines", async () => {
    const r = await startRelay(lab, "relay-milter");
    await labExec(r, [
      "postconf",
      "-c",
      r.configDir,
      "-e",
      "smtpd_milters=inet:127.0.0.1:9",
      "milter_default_action=tempfail",
    ]);
    await labExec(r, ["postfix", "-c", r.configDir, "reload"]);
    await new Promise((res) => setTimeout(res, 1000));
    await sendMail(r, { from: "app@billing.example.internal", to: ["u1@refused.lab.test"] }).catch(() => {});
    const findings = await triageJson(r);
    const f = findings.find((x) => x.class === "local-service");
    expect(f?.evidence.join("\n")).toMatch(
      /relay-milter postfix\/smtpd\[\d+\]: NOQUEUE: milter-reject: .*451 4\.7\.1 Service unavailable/,
    );
    expect(f?.recommendation).toContain("Do not delete queued mail because a filter died");
  });
});
