import { describe, expect, it } from "vitest";
import { explainReason, type Lever, normaliseReason, type ReasonClass } from "../../src/analysis/reasons.js";

/**
 * Deferral texts as the big providers publish them in their postmaster documentation (reply
 * text as documented; host names theirs, addresses from the documentation ranges), as Postfix
 * logs them, each with the class and lever an experienced operator would choose.
 */
const said = (host: string, reply: string, stage = "RCPT TO") =>
  `host ${host}[192.0.2.25] said: ${reply} (in reply to ${stage} command)`;

const GMAIL = "gmail-smtp-in.l.google.com";
const MS = "example-com.mail.protection.outlook.com";
const OUTLOOK = "outlook-com.olc.protection.outlook.com";
const YAHOO = "mta7.am0.yahoodns.net";
const AOL = "mx-aol.mail.gm0.yahoodns.net";
const ICLOUD = "mx01.mail.icloud.com";
const GMX = "mx00.emig.gmx.net";
const WEBDE = "mx-ha03.web.de";
const MIMECAST = "eu-smtp-inbound-1.mimecast.com";
const PROOFPOINT = "mx0a-00123401.pphosted.com";
const BARRACUDA = "d123456a.ess.barracudanetworks.com";

type Row = [provider: string, reason: string, cls: ReasonClass, lever: Lever, dsn?: string];

const ROWS: Row[] = [
  // Gmail (Google Workspace "Gmail SMTP errors and codes")
  [
    "gmail",
    said(GMAIL, "421-4.7.0 Try again later, closing connection. (EHLO) - gsmtp", "EHLO"),
    "remote-throttling",
    "back-off",
  ],
  [
    "gmail",
    said(
      GMAIL,
      "421-4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. - gsmtp",
      "end of DATA",
    ),
    "policy",
    "reputation",
  ],
  [
    "gmail",
    said(
      GMAIL,
      "421-4.7.26 This mail has been rate limited because it is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM. - gsmtp",
      "end of DATA",
    ),
    "policy",
    "authenticate",
  ],
  [
    "gmail",
    said(
      GMAIL,
      "421-4.7.27 Your email has been rate limited because SPF authentication didn't pass for this message. - gsmtp",
      "end of DATA",
    ),
    "policy",
    "authenticate",
  ],
  [
    "gmail",
    said(
      GMAIL,
      "421-4.7.30 Your email has been rate limited because DKIM authentication didn't pass for this message. - gsmtp",
      "end of DATA",
    ),
    "policy",
    "authenticate",
  ],
  [
    "gmail",
    said(
      GMAIL,
      "421-4.7.32 Your email has been rate limited because the From: header (RFC5322) in this message isn't aligned with either the authenticated SPF or DKIM organizational domain. - gsmtp",
      "end of DATA",
    ),
    "policy",
    "authenticate",
  ],
  [
    "gmail",
    said(
      GMAIL,
      "421-4.7.23 The sending IP address for this message doesn't have a PTR record, or the PTR record's forward DNS entry doesn't match the sending IP address. - gsmtp",
      "end of DATA",
    ),
    "policy",
    "authenticate",
  ],
  [
    "gmail",
    said(
      GMAIL,
      "450-4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered. Please resend your message at a later point. - gsmtp",
    ),
    "recipient",
    "recipient",
  ],
  [
    "gmail",
    said(
      GMAIL,
      "450-4.2.1 Peak SMTP relay limit exceeded for customer. This is a temporary error. - gsmtp",
      "MAIL FROM",
    ),
    "remote-throttling",
    "back-off",
  ],
  [
    "gmail",
    said(
      GMAIL,
      "452-4.2.2 The email account that you tried to reach is over quota. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp - gsmtp",
    ),
    "recipient",
    "recipient",
  ],
  [
    "gmail",
    said(GMAIL, "452-4.5.3 Your message has too many recipients. - gsmtp"),
    "remote-throttling",
    "fewer-recipients",
  ],
  [
    "gmail",
    said(GMAIL, "421-4.7.0 TLS required for RCPT domain, closing connection. - gsmtp"),
    "tls",
    "fix-tls",
  ],
  [
    "gmail",
    said(GMAIL, "421-4.7.0 IP not in whitelist for RCPT domain, closing connection. - gsmtp"),
    "policy",
    "contact-remote",
  ],
  [
    "gmail",
    said(GMAIL, "451-4.3.0 Mail server temporarily rejected message. - gsmtp", "end of DATA"),
    "remote-throttling",
    "wait",
  ],
  [
    "gmail",
    said(GMAIL, "421-4.4.5 Server busy, try again later. - gsmtp", "MAIL FROM"),
    "remote-throttling",
    "back-off",
  ],
  [
    "gmail",
    said(GMAIL, "451-4.4.2 Timeout - closing connection. - gsmtp", "end of DATA"),
    "network",
    "fix-network",
  ],
  [
    "gmail",
    said(GMAIL, "421-4.3.0 Temporary System Problem. Try again later. - gsmtp", "MAIL FROM"),
    "remote-throttling",
    "wait",
  ],

  // Microsoft (Outlook.com postmaster, Exchange Online NDR reference)
  [
    "outlook.com",
    said(
      OUTLOOK,
      "451 4.7.650 The mail server [203.0.113.10] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://aka.ms/postmaster (S775)",
      "MAIL FROM",
    ),
    "policy",
    "reputation",
  ],
  [
    "outlook.com",
    said(
      OUTLOOK,
      "451 4.7.651 The mail server [203.0.113.10] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://aka.ms/postmaster (S3114)",
      "MAIL FROM",
    ),
    "policy",
    "reputation",
  ],
  [
    "outlook.com",
    said(
      OUTLOOK,
      "421 RP-001 (COL004-MC1F43) Unfortunately, some messages from 203.0.113.10 weren't sent. Please try again. We have limits for how many messages can be sent per hour and per day.",
      "MAIL FROM",
    ),
    "remote-throttling",
    "back-off",
  ],
  [
    "exchange online",
    said(MS, "451 4.7.500 Server busy. Please try again later from [203.0.113.10]. (S77714)", "MAIL FROM"),
    "remote-throttling",
    "back-off",
  ],
  [
    "exchange",
    said(MS, "452 4.3.1 Insufficient system resources (UsedDiskSpace)", "MAIL FROM"),
    "remote-throttling",
    "back-off",
  ],
  [
    "exchange",
    said(MS, "432 4.3.2 STOREDRV.Deliver; mailbox database thread limit exceeded", "end of DATA"),
    "remote-throttling",
    "back-off",
  ],
  [
    "exchange online",
    said(MS, "451 4.7.0 Temporary server error. Please try again later. PRX5", "end of DATA"),
    "remote-throttling",
    "wait",
  ],
  ["exchange", said(MS, "452 4.2.2 Mailbox full"), "recipient", "recipient"],
  [
    "outlook.com (soft_bounce)",
    said(
      OUTLOOK,
      "550 5.7.515 Access denied, sending domain example.com doesn't meet the required authentication level.",
      "end of DATA",
    ),
    "policy",
    "authenticate",
  ],

  // Yahoo and AOL (Yahoo Sender Hub error codes)
  [
    "yahoo",
    said(
      YAHOO,
      "421 4.7.0 [TSS04] Messages from 203.0.113.10 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
      "MAIL FROM",
    ),
    "remote-throttling",
    "back-off",
  ],
  [
    "yahoo",
    said(
      YAHOO,
      "421 4.7.0 [TSS09] All messages from 203.0.113.10 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes",
      "MAIL FROM",
    ),
    "policy",
    "reputation",
  ],
  [
    "aol",
    said(
      AOL,
      "421 4.7.0 [TS02] Messages from 203.0.113.10 temporarily deferred due to user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
      "MAIL FROM",
    ),
    "policy",
    "reputation",
  ],
  [
    "aol",
    said(AOL, "451 Message temporarily deferred - [160]", "end of DATA"),
    "remote-throttling",
    "back-off",
  ],
  ["yahoo", said(YAHOO, "452 4.2.2 Mailbox over quota"), "recipient", "recipient"],

  // Apple iCloud Mail (postmaster information for iCloud Mail)
  [
    "icloud",
    said(
      ICLOUD,
      "421 4.7.1 Messages to bob@icloud.com deferred due to excessive volume. Try again later - https://support.apple.com/en-us/HT204137",
    ),
    "remote-throttling",
    "back-off",
  ],
  [
    "icloud",
    said(ICLOUD, "451 4.7.1 Service unavailable - try again later", "MAIL FROM"),
    "remote-throttling",
    "back-off",
  ],
  [
    "icloud",
    said(
      ICLOUD,
      "450 4.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
      "end of DATA",
    ),
    "policy",
    "reputation",
  ],
  ["icloud", said(ICLOUD, "452 4.2.2 <bob@icloud.com>: mailbox is full"), "recipient", "recipient"],

  // GMX and Web.de (postmaster error messages: no enhanced codes, a case URL instead)
  [
    "gmx",
    said(
      GMX,
      "421-gmx.net (mxgmx114) Nemesis ESMTP Service not available 421-Service unavailable 421-Reject due to policy restrictions. 421 For explanation visit https://postmaster.gmx.net/en/case?c=r0801&i=ip&v=203.0.113.10&r=1MNcgj",
      "MAIL FROM",
    ),
    "policy",
    "reputation",
  ],
  [
    "gmx",
    said(
      GMX,
      "421-gmx.net (mxgmx017) Nemesis ESMTP Service not available 421 Rate limit reached. Please try again later",
      "MAIL FROM",
    ),
    "remote-throttling",
    "back-off",
  ],
  [
    "web.de",
    said(WEBDE, "450 Requested mail action not taken: mailbox unavailable"),
    "recipient",
    "recipient",
  ],
  [
    "web.de",
    said(WEBDE, "451 Requested action aborted: local error in processing", "end of DATA"),
    "remote-throttling",
    "wait",
  ],

  // Mimecast (Mimecast SMTP error codes: 4xx)
  [
    "mimecast",
    said(
      MIMECAST,
      "451 Internal resource temporarily unavailable - https://community.mimecast.com/docs/DOC-1369#451",
    ),
    "remote-throttling",
    "wait",
  ],
  [
    "mimecast",
    said(
      MIMECAST,
      "421 Sender address blocked - https://community.mimecast.com/docs/DOC-1369#421",
      "MAIL FROM",
    ),
    "policy",
    "contact-remote",
  ],
  [
    "mimecast",
    said(MIMECAST, "421 Unable to process connection at this time", "MAIL FROM"),
    "remote-throttling",
    "wait",
  ],
  [
    "mimecast",
    said(
      MIMECAST,
      "451 4.7.1 Greylisting in action, please come back later - https://community.mimecast.com/docs/DOC-1369#451",
    ),
    "remote-throttling",
    "wait",
  ],
  [
    "mimecast",
    said(MIMECAST, "451 Open relay not allowed - https://community.mimecast.com/docs/DOC-1369#451"),
    "policy",
    "contact-remote",
  ],

  // Proofpoint
  [
    "proofpoint",
    said(PROOFPOINT, "421 4.7.1 Blocked - see https://ipcheck.proofpoint.com/?ip=203.0.113.10", "MAIL FROM"),
    "policy",
    "reputation",
  ],
  [
    "proofpoint",
    said(PROOFPOINT, "421 4.7.0 Too many concurrent connections", "MAIL FROM"),
    "remote-throttling",
    "back-off",
  ],
  ["proofpoint", said(PROOFPOINT, "452 4.2.2 Quota exceeded for recipient"), "recipient", "recipient"],
  [
    "proofpoint",
    said(PROOFPOINT, "451 4.3.5 Server configuration problem"),
    "remote-throttling",
    "contact-remote",
  ],

  // Barracuda
  [
    "barracuda",
    said(
      BARRACUDA,
      "421 4.7.1 Service unavailable; Client host [203.0.113.10] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?pr=1&ip=203.0.113.10",
      "MAIL FROM",
    ),
    "policy",
    "reputation",
  ],
  [
    "barracuda",
    said(BARRACUDA, "421 4.7.0 Rate limit exceeded, please try again later", "MAIL FROM"),
    "remote-throttling",
    "back-off",
  ],
  [
    "barracuda",
    said(BARRACUDA, "450 4.7.1 Client host rejected: cannot find your hostname, [203.0.113.10]"),
    "policy",
    "authenticate",
  ],
  [
    "barracuda",
    said(
      BARRACUDA,
      "450 4.2.0 <bob@example.org>: Recipient address rejected: Greylisted, please try again later",
    ),
    "remote-throttling",
    "wait",
  ],

  // Postfix's own words, classed by its dsn= code where the text carries none
  ["postfix", "mail system configuration error", "config", "fix-config", "4.3.5"],
  [
    "postfix",
    "connect to mx.example.org[192.0.2.9]:25: Connection refused",
    "network",
    "fix-network",
    "4.4.1",
  ],
  [
    "postfix",
    "Host or domain name not found. Name service error for name=example.org type=MX: Host not found, try again",
    "dns",
    "fix-dns",
    "4.4.3",
  ],
  ["postfix", 'unknown user: "bob"', "recipient", "recipient", "4.1.1"],
  ["postfix", "temporary failure", "local-service", "restore-service", "4.3.0"],
];

describe("deferral texts from the providers' postmaster pages", () => {
  it("has at least 40 provider texts", () => {
    expect(ROWS.filter((r) => r[0] !== "postfix").length).toBeGreaterThanOrEqual(40);
  });

  it.each(ROWS)("%s: %s → %s, %s", (_p, reason, cls, lever, dsn) => {
    expect(explainReason(reason, dsn)).toMatchObject({ class: cls, lever });
    // The card classes the normalised reason: same verdict, and the provider's words kept.
    expect(explainReason(normaliseReason(reason), dsn)).toMatchObject({ class: cls, lever });
  });

  it("takes the code from the reply before Postfix's dsn=, and ignores dotted numbers that are not codes", () => {
    expect(explainReason(said(GMAIL, "452-4.2.2 over quota"), "4.7.1").code).toBe("4.2.2");
    expect(explainReason(said(YAHOO, "421 4.7.0 [TSS04] temporarily deferred - 4.16.55.1")).code).toBe(
      "4.7.0",
    );
    expect(explainReason("connect to 4.2.2.1[4.2.2.1]:25: Connection timed out").class).toBe("network");
    expect(explainReason("connect to 4.2.2.1[4.2.2.1]:25: Connection timed out").code).toBeNull();
  });

  it("keeps the provider's reason in the cause row", () => {
    const r = normaliseReason(
      said(
        OUTLOOK,
        "451 4.7.650 The mail server [203.0.113.10] has been temporarily rate limited due to IP reputation. (S775)",
      ),
    );
    expect(r).toContain("temporarily rate limited due to IP reputation. (S775)");
  });
});
