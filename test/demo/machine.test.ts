import { describe, expect, it } from "vitest";
import { createdSchema } from "../../scripts/demo/machine.js";

describe("what the demo records it created", () => {
  it("takes the lab's own users, files and directories", () => {
    const rec = {
      users: ["mailqlab", "mailqgate"],
      files: ["/etc/postfix/main.cf", "/etc/sudoers.d/mailq-lab"],
      dirs: ["/run/mailq-lab", "/var/lib/mailq-lab"],
    };
    expect(createdSchema.parse(rec)).toEqual(rec);
  });

  it.each([
    { users: ["root"], files: [], dirs: [] },
    { users: [], files: ["/etc/passwd"], dirs: [] },
    { users: [], files: [], dirs: ["/"] },
  ])("refuses anything else, so that a damaged record makes down remove nothing more: %j", (rec) => {
    expect(() => createdSchema.parse(rec)).toThrow();
  });
});
