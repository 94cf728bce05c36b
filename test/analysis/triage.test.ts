import { describe, expect, it } from "vitest";
import { buildSnapshot, diskReport } from "../../src/analysis/snapshot.js";
import { probeTargets, triage } from "../../src/analysis/triage.js";
import { parseLogLine } from "../../src/parsers/maillog.js";
import { classifyWarning } from "../../src/parsers/maillog-warnings.js";
import { digMx, tcpConnect } from "../../src/relay/triage-probes.js";

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const usage = (pct: number) => ({
  filesystem: "/dev/sda2",
  mountedOn: "/",
  total: 100,
  used: pct,
  available: 100 - pct,
  usedPercent: pct,
});

function snapshot(over: Partial<Parameters<typeof buildSnapshot>[0]> = {}) {
  return buildSnapshot({
    relay: "relay-x",
    takenAtMs: NOW,
    listingComplete: true,
    probeErrors: [],
    service: {
      masterRunning: true,
      masterPid: 1,
      qmgrRunning: true,
      qmgrPid: 2,
      qmgrUptimeS: 900,
      statusMessage: "",
    },
    ...over,
  });
}

describe("triage findings", () => {
  it("puts a full spool first, with the df numbers and the seed's lever", () => {
    const t = triage(
      snapshot({
        disk: diskReport("/var/spool/postfix", usage(97), usage(100), { diskPercent: 90, inodePercent: 90 }),
      }),
      [],
      [],
    );
    expect(t.findings[0]).toMatchObject({ class: "storage", share: 1 });
    expect(t.findings[0]?.evidence).toEqual([
      "/var/spool/postfix: 97% of bytes used",
      "/var/spool/postfix: 100% of inodes used",
    ]);
    expect(t.findings[0]?.recommendation).toContain("Never rm queue files");
  });

  it("says master is down before anything else", () => {
    const t = triage(
      snapshot({
        service: {
          masterRunning: false,
          masterPid: undefined,
          qmgrRunning: false,
          qmgrPid: undefined,
          qmgrUptimeS: undefined,
          statusMessage: "",
        },
      }),
      [],
      [],
    );
    expect(t.findings[0]?.title).toBe("Postfix's master is not running");
  });

  it.each([
    [
      "postfix/qmgr[9]: warning: mail for example.com is using up 20000 of 20000 active queue entries",
      "congestion",
    ],
    [
      "postfix/smtpd[9]: warning: not enough free space in mail queue: 1048576 bytes < 1.5*message size limit",
      "space",
    ],
    ["postfix/cleanup[9]: warning: 3F1A61A0A1: queue file write error", "write-error"],
    ['postfix/master[9]: warning: service "smtp" (25) has reached its process limit "100"', "process-limit"],
    ["postfix/qmgr[9]: warning: saved corrupted queue file as corrupt/3F1A61A0A1", "corruption"],
    ["postfix/smtpd[9]: warning: problem talking to server 127.0.0.1:10023: Connection refused", "policy"],
    [
      "postfix/smtp[9]: 3F1A61A0A1: to=<a@b>, relay=none, delay=1, dsn=4.4.1, status=deferred (connect...)",
      undefined,
    ],
  ])("reads %s as %s", (msg, kind) => {
    const line = parseLogLine(`Nov 22 11:00:00 mx ${msg}`, NOW);
    expect(line && classifyWarning(line)).toBe(kind);
  });

  it("probes only what the relay's own deferral reasons name", () => {
    const s = snapshot();
    s.topReasons = [
      { reason: "connect to mx.a.tld[192.0.2.7]:25: Connection timed out", class: "network", count: 9 },
      {
        reason:
          "Host or domain name not found. Name service error for name=b.tld type=MX: Host not found, try again",
        class: "dns",
        count: 3,
      },
    ];
    expect(probeTargets(s)).toEqual({ dns: ["b.tld"], tcp: [{ host: "192.0.2.7", port: 25 }] });
  });

  it.each([["-fetc/shadow"], ["a.tld;reboot"], ["$(id)"], ["a b"]])(
    "refuses to dig or nc a hostile name %s before running anything",
    async (name) => {
      const runner = {
        relay: "x",
        run: async () => {
          throw new Error("must not run");
        },
        close: async () => {},
      };
      const ctx = { runner, sudo: false, deadlineMs: Date.now() + 5000, nowMs: Date.now };
      await expect(digMx(ctx, name)).rejects.toThrow(/not a host name/);
      await expect(tcpConnect(ctx, name, 25)).rejects.toThrow(/not a host or address/);
    },
  );
});
