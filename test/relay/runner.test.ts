import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { COMMAND_PATH, shellQuote, withCommandPath } from "../../src/relay/runner.js";

/** What a real /bin/sh makes of the quoted string: the argv it would run. */
function shellSees(quoted: string): string[] {
  const out = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${quoted}`]);
  return out.toString("utf8").split("\0").slice(0, -1);
}

describe("shellQuote", () => {
  it.each([
    ["plain words", ["postqueue", "-j"]],
    ["a path", ["find", "/var/spool/postfix/deferred", "-type", "f", "-printf", "."]],
    ["spaces", ["a b", "  c  "]],
    ["a single quote", ["it's"]],
    ["only quotes", ["'''"]],
    ["command substitution", ["$(id)", "`id`"]],
    ["list and pipe operators", [";", "&&", "|", ">", "<"]],
    ["globs", ["*", "?", "[a]"]],
    ["a newline", ["a\nb"]],
    ["an empty argument", [""]],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the point
    ["backslashes and dollars", ["\\n", "$HOME", "${PATH}"]],
    ["non-ASCII", ["mél", "日本"]],
  ])("round-trips %s through /bin/sh exactly", (_l, argv) => {
    expect(shellSees(shellQuote(argv))).toEqual(argv);
  });

  it("leaves safe words bare, so the relay-side gate can read them", () => {
    expect(shellQuote(["postsuper", "-h", "-", "deferred"])).toBe("postsuper -h - deferred");
  });
});

describe("withCommandPath", () => {
  it("runs with a fixed PATH that includes sbin, except under sudo (secure_path)", () => {
    expect(withCommandPath(["postqueue", "-j"])).toEqual(["env", `PATH=${COMMAND_PATH}`, "postqueue", "-j"]);
    expect(COMMAND_PATH.split(":")).toContain("/usr/sbin");
    expect(withCommandPath(["sudo", "-n", "postfix", "status"])).toEqual(["sudo", "-n", "postfix", "status"]);
  });
});
