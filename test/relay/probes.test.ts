import { describe, expect, it } from "vitest";
import { logTailArgv, type ProbeContext } from "../../src/relay/probes.js";

// The argvs must match, word for word, what deploy/relay/mailq-bot-gate and render-sudoers allow.
const ctx = (sudo: boolean) => ({ sudo }) as ProbeContext;

describe("logTailArgv", () => {
  it.each([
    [false, "/var/log/mail.log", ["tail", "-n", "500", "/var/log/mail.log"]],
    [true, "/var/log/mail.log", ["sudo", "-n", "tail", "-n", "500", "/var/log/mail.log"]],
    [
      true,
      "journald",
      [
        "sudo",
        "-n",
        "journalctl",
        "--no-pager",
        "-q",
        "-o",
        "short-iso",
        "-n",
        "500",
        "_COMM=smtp",
        "_COMM=error",
      ],
    ],
  ])("sudo %s, %s", (sudo, source, argv) => {
    expect(logTailArgv(ctx(sudo), source, 500, ["smtp", "error"])).toEqual(argv);
  });
});
