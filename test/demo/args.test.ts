import { describe, expect, it } from "vitest";
import { DEFAULT_MESSAGES, DEMO_ROOT, parseDemoArgs } from "../../scripts/demo/args.js";

describe("the demo's command line", () => {
  it("starts by default, with 10,000 messages under /var/lib/mailq-lab/demo", () => {
    expect(parseDemoArgs([])).toEqual({ cmd: "up", messages: DEFAULT_MESSAGES, root: DEMO_ROOT });
    expect(DEMO_ROOT).toBe("/var/lib/mailq-lab/demo");
    expect(parseDemoArgs(["--messages", "500", "--root", "/var/lib/mailq-lab/demo-x/"])).toEqual({
      cmd: "up",
      messages: 500,
      root: "/var/lib/mailq-lab/demo-x",
    });
    expect(parseDemoArgs(["down"])).toEqual({ cmd: "down", root: DEMO_ROOT });
  });

  it.each([
    [["--messages", "ten"], /--messages takes a whole number/],
    [["--messages", "1e4"], /--messages takes a whole number/],
    [["--messages", "5"], /from 10 to 100000/],
    [["--messages", "100001"], /from 10 to 100000/],
    [["down", "--messages", "50"], /--messages goes with starting the demo/],
    [["--root", "/tmp/demo"], /--root must be a directory directly under/],
    [["--root", "/var/lib/mailq-lab/../../etc"], /--root must be/],
    [["--root", "/var/lib/mailq-lab"], /--root must be/],
    [["--root", "/var/lib/mailq-lab/a/b"], /--root must be/],
    [["--root", "demo"], /--root must be/],
    [["restart"], /unknown command "restart"/],
    [["down", "now"], /unexpected argument "now"/],
    [["--verbose"], /Unknown option '--verbose'/],
  ])("refuses %j", (argv, why) => {
    const r = parseDemoArgs(argv);
    expect(r).toHaveProperty("error");
    expect((r as { error: string }).error).toMatch(why);
  });
});
