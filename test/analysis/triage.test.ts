import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type LogFacts, LogFactsAccumulator } from "../../src/analysis/log-facts.js";
import { QueueAccumulator } from "../../src/analysis/queue-summary.js";
import { buildSnapshot, diskReport, type SnapshotParts } from "../../src/analysis/snapshot.js";
import { type DnsProbe, probePlan, type TcpProbe, triage } from "../../src/analysis/triage/index.js";
import { parsePostqueueJsonLine } from "../../src/parsers/postqueue.js";
import { parseDfP } from "../../src/parsers/system.js";
import { digMx, parseDig, parseNc, tcpConnect } from "../../src/relay/triage-probes.js";

const RELAY_A = join(__dirname, "../fixtures/relay-a");
const FIX = join(__dirname, "../triage/fixtures");
const read = (dir: string, f: string) => readFileSync(join(dir, f), "utf8");
const NOW = Date.UTC(2026, 10, 22, 12, 30, 0);

const healthy = {
  masterRunning: true,
  masterPid: 100,
  qmgrRunning: true,
  qmgrPid: 101,
  qmgrUptimeS: 900,
  statusMessage: "",
};

/** A snapshot from relay-a's captured postqueue -j (120 refused, 30 throttled, 20 DNS, 10 held, 1 to 3 domains). */
function relayA(over: Partial<SnapshotParts> = {}) {
  const acc = new QueueAccumulator(Math.floor(NOW / 1000));
  for (const l of read(RELAY_A, "postqueue-j.jsonl").split("\n").filter(Boolean)) {
    const r = parsePostqueueJsonLine(l);
    if (r.ok) acc.add(r.value);
  }
  return buildSnapshot({
    relay: "relay-a",
    takenAtMs: NOW,
    listingComplete: true,
    queue: acc.summary(50),
    top: 50,
    probeErrors: [],
    service: healthy,
    postfix: {
      version: "3.7.11",
      maximalQueueLifetimeS: 432000,
      concurrency: { smtp_destination_concurrency_limit: "20", default_destination_concurrency_limit: "20" },
    },
    ...over,
  });
}

function facts(file: string, dir = FIX): LogFacts {
  const acc = new LogFactsAccumulator("/var/log/mail.log", NOW);
  for (const l of read(dir, file).split("\n")) acc.addLine(l);
  return acc.facts();
}

const port = (re: RegExp) => Number(re.exec(read(RELAY_A, "maillog.txt"))?.[1]);
const REFUSED_PORT = port(/connect to 127\.0\.0\.1\[127\.0\.0\.1\]:(\d+): Connection refused/);
const THROTTLE_PORT = port(/relay=127\.0\.0\.1\[127\.0\.0\.1\]:(\d+),.*said: 451/);

const servfail = parseDig("dnsfail.lab.test", "127.0.0.1", read(FIX, "dig-servfail.txt"), 0);
const ncRefused = parseNc("127.0.0.1", REFUSED_PORT, "refused.lab.test", read(FIX, "nc-refused.txt"), 1);
const ncOpen = parseNc("127.0.0.1", THROTTLE_PORT, "throttle.lab.test", read(FIX, "nc-open.txt"), 0);

describe("dig and nc, read from their real output", () => {
  it.each([
    ["dig-servfail.txt", 0, { status: "SERVFAIL", queryMs: 0, exchanges: [] }, /: SERVFAIL in 0 ms$/],
    ["dig-nxdomain.txt", 0, { status: "NXDOMAIN", queryMs: 4, exchanges: [] }, /: NXDOMAIN in 4 ms$/],
    [
      "dig-mx.txt",
      0,
      { status: "NOERROR", queryMs: 0, exchanges: ["mx2.ok.lab.test", "mx1.ok.lab.test"] },
      /: NOERROR in 0 ms, MX mx2\.ok\.lab\.test mx1\.ok\.lab\.test$/,
    ],
    ["dig-timeout.txt", 9, { status: "TIMEOUT", queryMs: null, exchanges: [] }, /: no answer within 2 s$/],
    [
      "dig-unreachable.txt",
      9,
      { status: "TIMEOUT", queryMs: null, exchanges: [] },
      /: no answer within 2 s$/,
    ],
  ])("%s (exit %i)", (file, code, want, output) => {
    const p = parseDig("x.lab.test", "127.0.0.1", read(FIX, file), code);
    expect(p).toMatchObject(want);
    expect(p.output).toMatch(/^dig \+tries=1 \+time=2 MX x\.lab\.test @127\.0\.0\.1/);
    expect(p.output).toMatch(output);
  });

  it.each([
    ["nc-refused.txt", 1, false, /: connect to 127\.0\.0\.1 port 9 \(tcp\) failed: Connection refused$/],
    ["nc-open.txt", 0, true, /: Connection to 127\.0\.0\.1 \d+ port \[tcp\/\*\] succeeded!$/],
  ])("%s (exit %i)", (file, code, ok, output) => {
    const p = parseNc("127.0.0.1", 9, "", read(FIX, file), code);
    expect(p.ok).toBe(ok);
    expect(p.output).toMatch(output);
  });
});

describe("what triage may probe", () => {
  it("only the next hops and names the relay's own deferrals name", () => {
    const plan = probePlan(relayA(), facts("maillog.txt", RELAY_A));
    expect(plan.dns).toEqual([{ name: "dnsfail.lab.test", domain: "dnsfail.lab.test" }]);
    expect(plan.tcp).toEqual(
      expect.arrayContaining([
        { host: "127.0.0.1", port: REFUSED_PORT, domain: expect.stringMatching(/\.lab\.test$/) },
        { host: "127.0.0.1", port: THROTTLE_PORT, domain: "throttle.lab.test" },
      ]),
    );
    expect(plan.tcp.every((t) => t.host === "127.0.0.1")).toBe(true);
    expect(plan.mxFallback).toEqual([]);
  });

  it.each([
    ["connect to -oProxyCommand=x[192.0.2.1]:25: Connection timed out", "192.0.2.1"],
    ["connect to mx.a.tld[--help]:25: Connection refused", null],
    ["connect to mx.a.tld[1.2.3.4;reboot]:25: Connection refused", null],
    ["connect to mx.a.tld[$(id)]:25: Connection refused", null],
    ["connect to mx.a.tld[192.0.2.7]:99999: Connection refused", null],
  ])("a hostile reason %s never yields a hostile target", (reason, host) => {
    const s = relayA();
    s.topReasons = [{ reason, class: "network", count: 5 }];
    const plan = probePlan(s, null);
    expect(plan.tcp.map((t) => t.host)).toEqual(host ? [host] : []);
  });

  it("refuses a hostile DNS name in a reason", () => {
    const s = relayA();
    s.topReasons = [
      {
        reason: "Host or domain name not found. Name service error for name=-x;id type=MX: Host not found",
        class: "dns",
        count: 3,
      },
    ];
    expect(probePlan(s, null).dns).toEqual([]);
  });

  it.each([["-fetc/shadow"], ["a.tld;reboot"], ["$(id)"], ["a b"], ["--help"], ["a.tld\n"]])(
    "dig and nc refuse %j before running anything",
    async (name) => {
      const runner = {
        relay: "x",
        run: async () => {
          throw new Error("must not run");
        },
        close: async () => {},
      };
      const ctx = { runner, sudo: false, deadlineMs: Date.now() + 5000, nowMs: Date.now };
      await expect(digMx(ctx, name)).rejects.toThrow(/refusing to look up [\s\S]*not a host name/);
      await expect(tcpConnect(ctx, name, 25)).rejects.toThrow(
        /refusing to probe [\s\S]*not a host or address/,
      );
      await expect(digMx(ctx, "ok.tld", name)).rejects.toThrow(/refusing resolver [\s\S]*not an IP address/);
      await expect(tcpConnect(ctx, "192.0.2.1", 0)).rejects.toThrow(/refusing to probe port 0/);
    },
  );
});

describe("findings", () => {
  const tcp: TcpProbe[] = [ncRefused, ncOpen];
  const dns: DnsProbe[] = [servfail];

  it("relay-a: refused, throttled, DNS — each with evidence and its safe lever, largest first", () => {
    const t = triage({ snapshot: relayA(), log: facts("maillog.txt", RELAY_A), dns, tcp });
    expect(t.findings.map((f) => [f.class, Math.round(f.share * 100)])).toEqual([
      ["network", 72], // 121 refused + 10 held (their last reason was refused) of 183
      ["remote-throttling", 17],
      ["dns", 11],
    ]);
    const [network, throttle, dnsF] = t.findings;
    expect(network?.title).toBe(
      "The relay cannot connect to failing destinations: refused.lab.test holds 66% of the queue",
    );
    expect(network?.recommendation).toMatch(
      /^One destination holds 66% of the queue \(refused\.lab\.test\): lower its concurrency or isolate it/,
    );
    expect(network?.evidence).toContain(ncRefused.output);
    expect(network?.evidence[0]).toMatch(
      /^131 recipients in the queue: connect to 127\.0\.0\.1\[127\.0\.0\.1\]:\d+: Connection refused$/,
    );
    expect(throttle?.evidence).toContain(ncOpen.output);
    expect(throttle?.evidence).toContain(
      "the host accepts TCP connections: it is the SMTP answer (4xx) that defers",
    );
    expect(throttle?.recommendation).toContain("smtp_destination_concurrency_limit = 20");
    expect(dnsF?.evidence).toContain("dig +tries=1 +time=2 MX dnsfail.lab.test @127.0.0.1: SERVFAIL in 0 ms");
    expect(dnsF?.recommendation).toMatch(/^Do not flush: DNS lookups fail.*Fix the resolver/);
    expect(t.unexplained).toEqual([]);
    expect(network?.sampleQueueId).toMatch(/^[0-9A-F]{10,}$/);
  });

  it("a full spool (real df of a small tmpfs) stops the relay and comes first", () => {
    const d = diskReport(
      "/var/spool/postfix",
      parseDfP(read(FIX, "df-P-spool.txt"), 1024) ?? null,
      parseDfP(read(FIX, "df-i-spool.txt"), 1) ?? null,
      { diskPercent: 90, inodePercent: 90 },
    );
    const t = triage({ snapshot: relayA({ disk: d }), log: facts("maillog-spool.txt"), dns, tcp });
    expect(t.findings[0]).toMatchObject({ class: "storage", share: 1, scope: "relay" });
    expect(t.findings[0]?.title).toMatch(/^The spool is out of inodes \(\d+% used\)$/);
    expect(t.findings[0]?.evidence.join("\n")).toMatch(/not enough free space in mail queue/);
    expect(t.findings[0]?.recommendation).toContain("Do not run cleanup scripts that rm queue files");
    expect(t.findings.slice(1).map((f) => f.class)).toEqual(["network", "remote-throttling", "dns"]);
  });

  it("a full spool that also keeps qmgr from starting: storage is the cause and comes first, qmgr says why", () => {
    const d = diskReport(
      "/var/spool/postfix",
      parseDfP(read(FIX, "df-P-spool.txt"), 1024) ?? null,
      parseDfP(read(FIX, "df-i-spool.txt"), 1) ?? null,
      { diskPercent: 90, inodePercent: 90 },
    );
    const service = { ...healthy, qmgrRunning: false, qmgrPid: undefined, qmgrUptimeS: undefined };
    const t = triage({ snapshot: relayA({ disk: d, service }), log: facts("maillog-spool.txt"), dns, tcp });
    expect(t.findings.map((f) => f.class).slice(0, 2)).toEqual(["storage", "config"]);
    expect(t.findings[1]?.title).toBe(
      "qmgr is missing: the queue cannot drain (the spool is full: Postfix cannot create its files)",
    );
    expect(t.findings[1]?.recommendation).toMatch(/^Free space and inodes on the spool first/);
  });

  it.each([
    [
      { ...healthy, masterRunning: false, masterPid: undefined, qmgrRunning: false, qmgrPid: undefined },
      "Postfix's master is not running: nothing is delivered",
    ],
    [{ ...healthy, qmgrRunning: false, qmgrPid: undefined }, "qmgr is missing: the queue cannot drain"],
  ])("Postfix's own processes come first: %#", (service, title) => {
    const t = triage({ snapshot: relayA({ service }), log: null, dns, tcp });
    expect(t.findings[0]).toMatchObject({ class: "config", share: 1, title });
  });

  it("a milter that tempfails everything stops intake: local-service, relay-wide, its log lines as evidence", () => {
    const t = triage({ snapshot: relayA(), log: facts("maillog-milter.txt"), dns, tcp });
    const f = t.findings[0];
    expect(f).toMatchObject({ class: "local-service", share: 1, scope: "relay" });
    expect(f?.evidence.join("\n")).toMatch(
      /warning: connect to Milter service inet:127\.0\.0\.1:\d+: Connection refused/,
    );
    expect(f?.evidence.join("\n")).toMatch(
      /NOQUEUE: milter-reject: CONNECT from .*451 4\.7\.1 Service unavailable/,
    );
    expect(f?.recommendation).toMatch(/^The milter is down: restore it; do not delete/);
  });

  it.each([
    [
      "congestion",
      "postfix/qmgr[9]: warning: mail for refused.lab.test is using up 20000 of 20000 active queue entries",
      "network",
      /Lower refused\.lab\.test's concurrency or isolate it/,
    ],
    [
      "process limit",
      'postfix/master[9]: warning: service "smtp" (25) has reached its process limit "100": new clients may experience noticeable delays',
      "config",
      /raise the process limit only if/,
    ],
    [
      "corruption",
      "postfix/qmgr[9]: warning: saved corrupted queue file as corrupt/3F1A61A0A1",
      "corruption",
      /preserve the spool/,
    ],
  ])("%s warnings become evidence and a lever", (_label, line, cls, lever) => {
    const acc = new LogFactsAccumulator("/var/log/mail.log", NOW);
    for (const l of read(RELAY_A, "maillog.txt").split("\n")) acc.addLine(l);
    acc.addLine(`Nov 22 12:20:00 relay-a ${line}`);
    const t = triage({ snapshot: relayA(), log: acc.facts(), dns, tcp });
    const f = t.findings.find((x) => x.class === cls && x.evidence.some((e) => e.endsWith(line)));
    expect(f?.recommendation).toMatch(lever);
  });

  it.each([
    [0, false],
    [3, true],
  ])("%i file(s) in corrupt/ → a corruption finding: %s", (n, found) => {
    const t = triage({
      snapshot: relayA({
        disk: diskReport("/var/spool/postfix", null, null, { diskPercent: 90, inodePercent: 90 }),
      }),
      log: facts("maillog.txt", RELAY_A),
      dns,
      tcp,
      corruptFiles: n,
    });
    const f = t.findings.find((x) => x.class === "corruption");
    expect(f !== undefined).toBe(found);
    if (found) {
      expect(f?.evidence[0]).toBe(
        "3 file(s) in /var/spool/postfix/corrupt: set aside by Postfix, never delivered",
      );
      expect(f?.recommendation).toMatch(/Do not delete queue files/);
    }
  });

  it("intake against drain: the standard scenario's burst counts as growing", () => {
    const t = triage({ snapshot: relayA(), log: facts("maillog.txt", RELAY_A), dns, tcp });
    expect(t.intake).toMatchObject({ newMessages: 181, removed: 0, growing: true });
    expect(t.intake?.verdict).toMatch(
      /^181 new, 0 removed in the last .* mail arrives faster than it leaves$/,
    );
    expect(t.intake?.recommendation).toMatch(/rate-limit or block it at the edge/);
  });

  it("an unreachable relay is one error, not findings", () => {
    const t = triage({
      snapshot: buildSnapshot({
        relay: "relay-x",
        takenAtMs: NOW,
        listingComplete: false,
        probeErrors: [],
        fatal: "relay-x (127.0.0.1:1): connection refused. Check that sshd runs",
      }),
      log: null,
      dns: [],
      tcp: [],
    });
    expect(t).toMatchObject({ ok: false, findings: [], error: expect.stringContaining("relay-x") });
  });

  it("reasons no rule explains are listed, not hidden", () => {
    const s = relayA();
    s.topReasons = [...s.topReasons, { reason: "something new and strange", class: "other", count: 2 }];
    expect(triage({ snapshot: s, log: null, dns, tcp }).unexplained).toEqual([
      { reason: "something new and strange", recipients: 2 },
    ]);
  });
});
