import { describe, expect, it } from "vitest";
import { parseLogLine } from "../../src/parsers/maillog.js";
import {
  classifyWarning,
  congestedDestination,
  parseNotificationLine,
  parseOutcomeLine,
  parseSmtpdRejectLine,
} from "../../src/parsers/maillog-warnings.js";
import { MAILLOG_NOW, maillogLine } from "../helpers/maillog-fixtures.js";

const NOW = MAILLOG_NOW;
const find = maillogLine;

describe("Postfix's own warnings", () => {
  // Lines a real Postfix 3.7 wrote in the lab (test/triage/fixtures, captured by triage.int.test.ts).
  it.each([
    ["maillog-milter.txt", /connect to Milter service/, "milter"],
    ["maillog-milter.txt", /milter-reject: CONNECT/, "milter-reject"],
    ["maillog-spool.txt", /not enough free space in mail queue/, "space"],
    ["maillog-spool.txt", /452 4\.3\.1 Insufficient system storage/, "space"],
    ["maillog-spool.txt", /showq.*fatal: open lock file .*No space left on device/, "space"],
    ["maillog-spool.txt", /warning: process \/usr\/lib\/postfix\/sbin\/showq pid \d+ exit status 1/, "fatal"],
    ["maillog-spool.txt", /resolv\.conf and \/etc\/resolv\.conf differ/, undefined],
    ["maillog-mixed.txt", /status=deferred \(connect to/, undefined],
    ["maillog-mixed.txt", /said: 451 4\.7\.1/, undefined],
    ["maillog-mixed.txt", /postfix-script\[\d+\]: starting the Postfix mail system/, undefined],
  ])("%s: a line matching %s is %s", (file, re, kind) => {
    const line = parseLogLine(find(file, re), NOW);
    expect(line).toBeDefined();
    expect(line && classifyWarning(line)).toBe(kind);
  });

  // Not reproduced in the lab: the exact wording of Postfix 3.7's format strings
  // (qmgr_message.c, master_spawn.c, qmgr_active.c, cleanup_out.c, tlsproxy/policy clients).
  it.each([
    [
      "postfix/qmgr[9]: warning: mail for example.com is using up 20000 of 20000 active queue entries",
      "congestion",
    ],
    [
      'postfix/master[9]: warning: service "smtp" (25) has reached its process limit "100": new clients may experience noticeable delays',
      "process-limit",
    ],
    ["postfix/qmgr[9]: warning: saved corrupted queue file as corrupt/3F1A61A0A1", "corruption"],
    ["postfix/cleanup[9]: warning: 3F1A61A0A1: queue file write error", "write-error"],
    ["postfix/smtpd[9]: warning: problem talking to server 127.0.0.1:10023: Connection refused", "policy"],
    [
      "postfix/qmgr[9]: fatal: open lock file pid/unix.qmgr: cannot create file exclusively: Permission denied",
      "fatal",
    ],
  ])("reads %s as %s", (msg, kind) => {
    const line = parseLogLine(`Nov 22 11:00:00 mx ${msg}`, NOW);
    expect(line && classifyWarning(line)).toBe(kind);
  });

  it("names the congested destination", () => {
    expect(
      congestedDestination("warning: mail for example.com is using up 20000 of 20000 active queue entries"),
    ).toBe("example.com");
  });
});

describe("outcome, reject and notification lines", () => {
  it("reads a deferral's queue ID, recipient, code and reason", () => {
    expect(
      parseOutcomeLine(
        "3F1A61A0A1: to=<u@b.example>, relay=mx.b.example[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.7.26, status=bounced (host mx.b.example[192.0.2.1] said: 550 5.7.26 Unauthenticated email)",
      ),
    ).toEqual({
      queueId: "3F1A61A0A1",
      recipient: "u@b.example",
      dsn: "5.7.26",
      status: "bounced",
      reason: "host mx.b.example[192.0.2.1] said: 550 5.7.26 Unauthenticated email",
    });
    expect(
      parseOutcomeLine("3F1A61A0A1: to=<u@b.example>, relay=none, status=sent (250 ok)"),
    ).toBeUndefined();
  });

  it("reads the relay's own 5.7.1 reject and a bounce notification's queue ID", () => {
    expect(
      parseSmtpdRejectLine(
        "NOQUEUE: reject: RCPT from unknown[192.0.2.7]: 554 5.7.1 <x@y.example>: Relay access denied; from=<a@b.example> to=<x@y.example> proto=ESMTP helo=<h>",
      ),
    ).toEqual({ client: "unknown[192.0.2.7]", dsn: "5.7.1", text: "<x@y.example>: Relay access denied" });
    expect(parseNotificationLine("3F1A61A0A1: sender non-delivery notification: 4B2C72B1B2")).toBe(
      "4B2C72B1B2",
    );
    expect(parseNotificationLine("3F1A61A0A1: removed")).toBeUndefined();
  });
});
