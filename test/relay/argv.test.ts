import { describe, expect, it } from "vitest";
import {
  isQueueOperation,
  postcatArgv,
  postsuperArgv,
  retryArgv,
  sendmailArgv,
} from "../../src/relay/argv.js";

describe("the relay's argv for commands that change a queue", () => {
  it.each([
    ["hold", "-h"],
    ["release", "-H"],
    ["requeue", "-r"],
    ["delete", "-d"],
  ] as const)("%s is postsuper %s, the IDs on stdin, sudo -n when configured", (op, flag) => {
    expect(postsuperArgv(op, "deferred", false)).toEqual(["postsuper", flag, "-", "deferred"]);
    expect(postsuperArgv(op, "hold", true)).toEqual(["sudo", "-n", "postsuper", flag, "-", "hold"]);
  });

  it("knows only the four operations", () => {
    expect(["hold", "release", "requeue", "delete"].every(isQueueOperation)).toBe(true);
    for (const s of ["retry", "-d", "toString", "constructor", ""]) expect(isQueueOperation(s)).toBe(false);
  });

  it("reads, retries and re-injects one message at a time", () => {
    expect(postcatArgv("3F1A61A0A1", true)).toEqual(["sudo", "-n", "postcat", "-q", "3F1A61A0A1"]);
    expect(retryArgv("3F1A61A0A1")).toEqual(["postqueue", "-i", "3F1A61A0A1"]);
    expect(sendmailArgv("", ["a@b.example"])).toEqual([
      "sendmail",
      "-G",
      "-i",
      "-f",
      "<>",
      "--",
      "a@b.example",
    ]);
  });
});
