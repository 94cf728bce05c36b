import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const RELAY = join(__dirname, "../../deploy/relay");

describe("deploy/relay/mailq-bot.sudoers", () => {
  it("is exactly what render-sudoers prints for the defaults (regenerate it when the script changes)", () => {
    const rendered = execFileSync(
      "sh",
      [join(RELAY, "render-sudoers"), "mailqbot", "/var/spool/postfix", ""],
      {
        encoding: "utf8",
      },
    );
    expect(readFileSync(join(RELAY, "mailq-bot.sudoers"), "utf8")).toBe(rendered);
  });

  it("grants no postqueue (the bot runs postqueue -i unprivileged) and postcat only as -q", () => {
    const file = readFileSync(join(RELAY, "mailq-bot.sudoers"), "utf8");
    expect(file).not.toContain("postqueue");
    expect(file).not.toContain("/usr/sbin/postfix");
    expect(file).toContain("/usr/sbin/postcat ^-q [0-9A-Za-z]{5,32}$");
    expect(file).not.toMatch(/_COMM=\[a-z\]/);
  });
});
