import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { Finding, RelayTriage } from "../../src/analysis/triage/index.js";
import { parseConfig } from "../../src/config.js";
import { triageRelay } from "../../src/relay/triage.js";
import { runCli } from "../helpers/cli.js";
import { asGate, labRelayEntry } from "../helpers/lab-relay.js";
import { RecordingPool, readOnlyAllowlist, tree } from "../helpers/read-only.js";
import { LAB_BLOCKLIST, LAB_RDNS, type LabRelay, labExec, startRelay } from "../lab/lab.js";
import { bounceStorm, setRelayCert } from "../lab/triage-scenarios.js";

/**
 * Checklist B (why the world refuses us) against real lab relays, through the gate: the lab
 * resolver serves a test blocklist, PTR records that match, are missing or mismatch, a zone
 * that never answers; the relays get real certificates and real bounces.
 */
const lab = inject("lab");
const DAY = 86_400_000;

async function triageOf(
  r: LabRelay,
  opts: { outboundIps?: string[]; blocklists?: string[] } = {},
): Promise<{ t: RelayTriage; ran: string[] }> {
  const entry = labRelayEntry(r, {
    resolver: "127.0.0.1",
    ...asGate(r),
    ...(opts.outboundIps ? { outboundIps: opts.outboundIps } : {}),
  });
  const config = parseConfig(
    { relays: [entry], triage: { blocklists: opts.blocklists ?? [LAB_BLOCKLIST.zone] } },
    "test",
    tmpdir(),
  );
  const pool = new RecordingPool(process.env, false);
  try {
    const t = await triageRelay(config.relays[0] as never, pool, config, Date.now);
    return { t, ran: pool.argvs.map((a) => a.join(" ")) };
  } finally {
    await pool.closeAll();
  }
}

const of = (t: RelayTriage, c: Finding["class"]) => t.findings.filter((f) => f.class === c);
const check = (t: RelayTriage, step: string) => t.checklist.filter((c) => c.step === step);
const refusedByGate = (r: LabRelay) =>
  readFileSync(r.gateLogPath, "utf8")
    .split("\n")
    .filter((l) => l.includes("REFUSED"));

describe("checklist B against a real lab relay", () => {
  let relay: LabRelay;
  beforeAll(async () => {
    relay = await startRelay(lab, "triage-world");
    // Where Postfix binds its client: the address triage finds without any configuration.
    await labExec(relay, ["postconf", "-e", "smtp_bind_address=127.0.0.1"]);
  }, 60_000);

  it("a listed sending address → reputation, with the delisting step and 'do not requeue ALL'; a zone that times out is unknown; read-only", async () => {
    const queueBefore = tree(relay.queueDirectory, { hash: true, skip: /\/pid\// });
    const configBefore = tree(relay.configDir);
    const { t, ran } = await triageOf(relay, { blocklists: [LAB_BLOCKLIST.zone, LAB_BLOCKLIST.slowZone] });

    const [rep, ...more] = of(t, "reputation");
    expect(more).toEqual([]);
    expect(rep?.title).toBe("127.0.0.1 is listed on bl.lab.test");
    const ev = rep?.evidence.join("\n") ?? "";
    expect(ev).toContain("outbound address from postconf smtp_bind_address");
    expect(ev).toContain(
      "dig +tries=1 +time=2 A 1.0.0.127.bl.lab.test @127.0.0.1: 127.0.0.1 on bl.lab.test: LISTED (127.0.0.2)",
    );
    expect(ev).toContain(
      "dig +tries=1 +time=2 A 1.0.0.127.slow.bl.lab.test @127.0.0.1: 127.0.0.1 on slow.bl.lab.test: unknown: the zone did not answer within 2 s",
    );
    expect(ev).not.toMatch(/not listed on .*slow\.bl\.lab\.test/);
    expect(rep?.recommendation).toMatch(/Request delisting/);
    expect(rep?.recommendation).toContain("Do not requeue ALL into the listing");
    const lists = check(t, "blocklist");
    expect(lists.map((c) => c.ok)).toEqual([false, false]);

    // 127.0.0.1's PTR is mx.ok.lab.test, not this relay's HELO name (its myhostname).
    const rdns = of(t, "dns");
    expect(rdns.map((f) => f.title)).toEqual([
      "Reverse DNS of 127.0.0.1 (mx.ok.lab.test) does not match the HELO name triage-world.lab.test",
    ]);

    // read-only, through the gate, nothing written
    const allow = readOnlyAllowlist(relay);
    expect(ran.filter((c) => !allow.some((re) => re.test(c)))).toEqual([]);
    expect(ran).toContain("dig +tries=1 +time=2 PTR 1.0.0.127.in-addr.arpa @127.0.0.1");
    expect(refusedByGate(relay)).toEqual([]);
    expect(tree(relay.queueDirectory, { hash: true, skip: /\/pid\// })).toEqual(queueBefore);
    expect(tree(relay.configDir)).toEqual(configBefore);
  }, 60_000);

  it("the status card warns on a listed relay, so nobody requeues into the listing; not on a clean one", async () => {
    const cfg = (outboundIps?: string[]) => ({
      relays: [
        labRelayEntry(relay, {
          resolver: "127.0.0.1",
          ...asGate(relay),
          ...(outboundIps ? { outboundIps } : {}),
        }),
      ],
      triage: { blocklists: [LAB_BLOCKLIST.zone] },
    });
    const listed = await runCli(["status"], cfg());
    expect(listed.out).toContain(
      "   !! triage-world is on a blocklist (127.0.0.1 on bl.lab.test): do not requeue ALL into the listing; see /mailq triage triage-world for the delisting step\n",
    );
    const clean = await runCli(["status"], cfg([LAB_RDNS.match.ip]));
    expect(clean.code).toBe(0);
    expect(clean.out).toMatch(/^== triage-world: /);
    expect(clean.out).not.toContain("blocklist");
  }, 60_000);

  it("an address that is not listed → no reputation finding; the timed-out zone stays unknown, never 'not listed'", async () => {
    const { t } = await triageOf(relay, {
      outboundIps: [LAB_RDNS.match.ip],
      blocklists: [LAB_BLOCKLIST.zone, LAB_BLOCKLIST.slowZone],
    });
    expect(of(t, "reputation")).toEqual([]);
    expect(check(t, "outbound addresses")[0]?.detail).toBe("127.0.0.10 (from config (outboundIps))");
    const [listed, slow] = check(t, "blocklist");
    expect(listed).toMatchObject({ ok: true });
    expect(listed?.detail).toMatch(/127\.0\.0\.10 on bl\.lab\.test: not listed \(NXDOMAIN\)$/);
    expect(slow).toMatchObject({ ok: false });
    expect(slow?.detail).toMatch(/127\.0\.0\.10 on slow\.bl\.lab\.test: unknown: the zone did not answer/);
  }, 60_000);

  it("reverse DNS: matching and forward-confirmed → nothing; missing, unconfirmed and mismatched → dns findings", async () => {
    await labExec(relay, ["postconf", "-e", `smtp_helo_name=${LAB_RDNS.match.name}`]);
    const ips = [LAB_RDNS.match.ip, LAB_RDNS.missing.ip, LAB_RDNS.unconfirmed.ip, LAB_RDNS.mismatch.ip];
    const { t } = await triageOf(relay, { outboundIps: ips });
    expect(of(t, "dns").map((f) => f.title)).toEqual([
      "127.0.0.11 has no reverse DNS (PTR)",
      "Reverse DNS of 127.0.0.12 is not forward-confirmed (ghost.ptr.lab.test does not resolve back to it)",
      "Reverse DNS of 127.0.0.13 (other.ptr.lab.test) does not match the HELO name mail.ptr.lab.test",
    ]);
    const checks = check(t, "reverse DNS");
    expect(checks.map((c) => c.ok)).toEqual([true, false, false, false]);
    expect(checks[0]?.detail).toContain(
      "127.0.0.10: match; dig +tries=1 +time=2 PTR 10.0.0.127.in-addr.arpa @127.0.0.1: NOERROR, mail.ptr.lab.test",
    );
    expect(of(t, "dns")[2]?.recommendation).toMatch(/set its PTR to mail\.ptr\.lab\.test/);
    expect(of(t, "dns")[0]?.evidence.join("\n")).toContain(
      "dig +tries=1 +time=2 PTR 11.0.0.127.in-addr.arpa @127.0.0.1: NXDOMAIN",
    );
  }, 60_000);

  it("the relay's certificate: valid → fine, expiring → tls in N days, expired → tls expired", async () => {
    const now = Date.now();
    const cert = await setRelayCert(relay, new Date(now - DAY), new Date(now + 200 * DAY));
    let { t, ran } = await triageOf(relay, { outboundIps: [LAB_RDNS.match.ip] });
    expect(ran).toContain(`openssl x509 -enddate -noout -in ${cert}`);
    expect(t.probeErrors).toEqual([]);
    expect(of(t, "tls")).toEqual([]);
    expect(check(t, "TLS certificate")[0]).toMatchObject({ ok: true });
    expect(check(t, "TLS certificate")[0]?.detail).toMatch(/: notAfter=\w{3} .* GMT$/);

    await setRelayCert(relay, new Date(now - DAY), new Date(now + 3 * DAY + 3_600_000));
    ({ t } = await triageOf(relay, { outboundIps: [LAB_RDNS.match.ip] }));
    expect(of(t, "tls").map((f) => f.title)).toEqual(["The relay's TLS certificate expires in 3 day(s)"]);
    expect(of(t, "tls")[0]?.recommendation).toMatch(/^Renew the relay's certificate/);

    await setRelayCert(relay, new Date(now - 30 * DAY), new Date(now - 10 * DAY - 3_600_000));
    ({ t } = await triageOf(relay, { outboundIps: [LAB_RDNS.match.ip] }));
    expect(of(t, "tls").map((f) => f.title)).toEqual(["The relay's TLS certificate expired 10 day(s) ago"]);
    expect(refusedByGate(relay)).toEqual([]);
  }, 90_000);
});

describe("bounces and policy refusals, in the relay's own log", () => {
  it("a calm log → nothing; a bounce storm → bounce-storm with causes and forged senders, policy with the provider's text, the relay's own 5.7.1 rejects", async () => {
    const r = await startRelay(lab, "triage-bounces");
    const calm = (await triageOf(r)).t;
    expect(of(calm, "bounce-storm")).toEqual([]);
    expect(of(calm, "policy")).toEqual([]);

    await bounceStorm(r, 25, 5);
    const { t } = await triageOf(r);
    const [storm] = of(t, "bounce-storm");
    expect(storm?.title).toMatch(/^A bounce storm: (?:5\d|60) bounces in the last \d+ min of the log/);
    const ev = storm?.evidence.join("\n") ?? "";
    expect(ev).toMatch(/^25× .*550 5\.1\.1 The email account that you tried to reach does not exist/m);
    expect(ev).toMatch(/postfix\/smtp\[\d+\]: \w+: to=<nouser\d+@policy\.lab\.test>.*status=bounced/);
    expect(ev).toMatch(
      /^30 of the 30 non-delivery notifications the relay sent could not be delivered themselves: their senders do not exist \(forged senders, backscatter\)$/m,
    );
    expect(storm?.recommendation).toMatch(/do not requeue the bounces/);

    const [dmarc, relayDenied] = of(t, "policy");
    expect(dmarc?.title).toBe("policy.lab.test refuse mail on SPF/DKIM/DMARC");
    expect(dmarc?.evidence[0]).toBe(
      "5× dsn=5.7.26 for policy.lab.test: 550 5.7.26 Unauthenticated email from forged.example.internal is not accepted due to domain's DMARC policy. Please contact the administrator of forged.example.internal domain if this was a legitimate mail. (in reply to RCPT TO command)",
    );
    expect(dmarc?.evidence[1]).toMatch(
      /said: 550 5\.7\.26 Unauthenticated email from forged\.example\.internal is not accepted due to domain's DMARC policy/,
    );
    expect(relayDenied?.title).toBe("The relay's own smtpd refused 1 request(s) with 5.7.1 from 1 client(s)");
    expect(relayDenied?.evidence[0]).toBe("1× unknown[127.0.0.1]: Relay access denied");
    expect(check(t, "bounces")[0]).toMatchObject({ ok: false });
    expect(check(calm, "bounces")[0]?.ok ?? true).toBe(true);
  }, 120_000);
});
