import { describe, expect, it } from "vitest";
import { classifyReason, normaliseReason, shortCause } from "../../src/analysis/reasons.js";

describe("normaliseReason", () => {
  it.each([
    [
      "strips the suspended prefix",
      "delivery temporarily suspended: connect to mx.remote.tld[203.0.113.10]:25: Connection timed out",
      "connect to mx.remote.tld[203.0.113.10]:25: Connection timed out",
    ],
    [
      "replaces recipient addresses, keeps host and codes",
      "host mx.b.tld[198.51.100.7] said: 450 4.2.0 <bob@b.tld>: Recipient address rejected: Greylisted (in reply to RCPT TO command)",
      "host mx.b.tld[198.51.100.7] said: 450 4.2.0 <address>: Recipient address rejected: Greylisted (in reply to RCPT TO command)",
    ],
    [
      "drops provider trace tokens",
      "host gmail-smtp-in.l.google.com[142.250.1.26] said: 421-4.7.0 Try again later. t4si1234567abc.123 - gsmtp (in reply to end of DATA command)",
      "host gmail-smtp-in.l.google.com[142.250.1.26] said: 421-4.7.0 Try again later. … - gsmtp (in reply to end of DATA command)",
    ],
    [
      "folds white space",
      "lost connection   with mx[1.2.3.4]\twhile sending RCPT TO",
      "lost connection with mx[1.2.3.4] while sending RCPT TO",
    ],
  ])("%s", (_l, raw, expected) => {
    expect(normaliseReason(raw)).toBe(expected);
  });

  it("makes one row of a cause spread over many recipients", () => {
    const rows = new Set(
      Array.from({ length: 120 }, (_, i) =>
        normaliseReason(`host mx.x.tld[192.0.2.1] said: 550 5.1.1 <user${i}@x.tld>: User unknown`),
      ),
    );
    expect(rows.size).toBe(1);
  });
});

describe("classifyReason", () => {
  it.each([
    ["connect to mx.remote.tld[203.0.113.10]:25: Connection timed out", "network"],
    ["connect to 127.0.0.1[127.0.0.1]:2599: Connection refused", "network"],
    ["connect to mx.x[192.0.2.1]:25: Network is unreachable", "network"],
    ["lost connection with mx.x[192.0.2.1] while receiving the initial server greeting", "network"],
    [
      "Host or domain name not found. Name service error for name=mx.other.tld type=MX: Host not found, try again",
      "dns",
    ],
    [
      "host 127.0.0.1[127.0.0.1] said: 451 4.7.1 Try again later (in reply to RCPT TO command)",
      "remote-throttling",
    ],
    [
      "host mx.b.tld[198.51.100.7] said: 450 4.2.0 <address>: Recipient address rejected: Greylisted",
      "remote-throttling",
    ],
    [
      "host mx.c[192.0.2.3] said: 421 4.7.0 [TSS04] Messages temporarily deferred due to unexpected volume",
      "remote-throttling",
    ],
    ["mail transport unavailable", "local-service"],
    ["connect to 127.0.0.1[127.0.0.1]:10024: Connection refused", "local-service"],
    ["milter inet:127.0.0.1:8891: Connection refused", "local-service"],
    [
      "cannot update mailbox /var/mail/x for user x. error writing message: No space left on device",
      "storage",
    ],
    ["Cannot start TLS: handshake failure", "tls"],
    ["TLS is required, but was not offered by host mx.x[192.0.2.1]", "tls"],
    ["mail for example.net loops back to myself", "config"],
    ["SASL authentication failed; server smtp.relay[192.0.2.9] said: 535 5.7.8 Error", "config"],
    ["something nobody has seen before", "other"],
  ])("%s → %s", (reason, cls) => {
    expect(classifyReason(reason)).toBe(cls);
  });
});

describe("shortCause", () => {
  it.each([
    ["connect to mx.remote.tld[203.0.113.10]:25: Connection timed out", "connect timeout to mx.remote.tld"],
    [
      "Host or domain name not found. Name service error for name=mx.other.tld type=MX: Host not found, try again",
      "DNS MX lookup failing for mx.other.tld",
    ],
    [
      "host 127.0.0.1[127.0.0.1] said: 451 4.7.1 Try again later (in reply to RCPT TO command)",
      "451 4.7.1 from 127.0.0.1",
    ],
  ])("%s", (reason, expected) => {
    expect(shortCause(reason)).toBe(expected);
  });
});
