import { describe, expect, it } from "vitest";
import { terminalProgress } from "../../src/cards/listing-progress.js";
import { CLI_COMMANDS, didYouMean, parseCli } from "../../src/cli-args.js";
import { runMain } from "../helpers/cli.js";

const cli = (argv: string[]) => runMain(argv);

describe("the CLI's arguments", () => {
  it("status --help prints status's own help, not the overview", async () => {
    const r = await cli(["status", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^mailq-bot status — read-only snapshot/);
    expect(r.out).toContain("Usage: mailq-bot status [--relay NAME] [--config FILE] [--json] [--wait-full]");
    expect(r.out).toContain("--wait-full");
    expect(r.out).toContain("3 an answer is incomplete: the --json document is partial");
    expect(r.out).not.toContain("--every");
    expect((await cli(["help", "watch"])).out).toMatch(/^mailq-bot watch — /);
    expect((await cli(["watch", "-h"])).out).toContain("--every DURATION");
  });

  it("the overview lists every command", async () => {
    const r = await cli(["help"]);
    for (const c of CLI_COMMANDS) expect(r.out).toContain(`  mailq-bot ${c.name} `);
    expect((await cli(["--help"])).out).toBe(r.out);
  });

  it("suggests the command meant, and changes nothing", async () => {
    const r = await cli(["stauts"]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'mailq-bot unknown command "stauts" — did you mean "status"? Commands: status, triage, watch, audit, archive, serve, doctor, fingerprint, healthcheck, help.\n',
    );
    expect((await cli(["frobnicate"])).err).not.toContain("did you mean");
  });

  it("suggests the flag meant, per command", async () => {
    const r = await cli(["status", "--relya", "relay-a"]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      "mailq-bot status: unknown option --relya — did you mean --relay? `mailq-bot status --help` lists its options.\n",
    );
    expect((await cli(["watch", "--evry", "5m"])).err).toContain("did you mean --every?");
  });

  it("refuses a flag that belongs to another command instead of ignoring it", async () => {
    const r = await cli(["status", "--every", "5m"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("mailq-bot status: --every is not an option of status (it is one of watch).");
    expect((await cli(["audit", "--relay", "relay-a", "--json"])).err).toContain(
      "--relay is not an option of audit (it is one of status)",
    );
    expect((await cli(["status", "relay-a"])).err).toContain('status: unexpected argument "relay-a"');
    expect((await cli(["status", "--relay"])).err).toContain(
      "status: Option '--relay <value>' argument missing",
    );
  });

  it("parses what each command takes", () => {
    expect(parseCli(["status", "--relay", "relay-a", "--json"])).toEqual({
      kind: "run",
      command: "status",
      values: { relay: "relay-a", json: true },
      positionals: [],
    });
    expect(parseCli([])).toEqual({ kind: "run", command: "serve", values: {}, positionals: [] });
    expect(parseCli(["--config", "x.yaml"])).toEqual({
      kind: "run",
      command: "serve",
      values: { config: "x.yaml" },
      positionals: [],
    });
  });

  it("takes --config before the command too, and nothing else there", () => {
    const status = {
      kind: "run",
      command: "status",
      values: { config: "x.yaml", json: true },
      positionals: [],
    };
    expect(parseCli(["--config", "x.yaml", "status", "--json"])).toEqual(status);
    expect(parseCli(["--config=x.yaml", "status", "--json"])).toEqual(status);
    expect(parseCli(["--config", "x.yaml", "help", "status"])).toMatchObject({ kind: "help" });
    // Not a command after it: serve's, refused as before.
    expect(parseCli(["--config", "x.yaml", "stauts"])).toEqual({
      kind: "error",
      message: 'serve: unexpected argument "stauts" (flags take --name; `mailq-bot serve --help` lists them)',
    });
    expect(parseCli(["--json", "status"])).toMatchObject({
      kind: "error",
      message: expect.stringMatching(/^serve: /),
    });
  });

  it("takes the words a command takes, no more, no fewer", async () => {
    expect(parseCli(["fingerprint", "127.0.0.1:2222"])).toMatchObject({
      kind: "run",
      positionals: ["127.0.0.1:2222"],
    });
    expect((await cli(["fingerprint"])).err).toContain("fingerprint: it needs HOST[:PORT]");
    expect((await cli(["fingerprint", "a", "b"])).err).toContain('fingerprint: unexpected argument "b"');
    expect((await cli(["healthcheck", "--wiat", "5s"])).err).toContain("did you mean --wait?");
    expect((await cli(["doctor", "--help"])).out).toMatch(/^mailq-bot doctor — the preflight/);
  });

  it("did you mean: close words only", () => {
    expect(didYouMean("stauts", ["status", "triage"])).toBe("status");
    expect(didYouMean("wach", ["status", "watch"])).toBe("watch");
    expect(didYouMean("xyz", ["status", "watch"])).toBeUndefined();
  });
});

describe("the terminal's progress line", () => {
  it("shows entries read and the rate, redraws at most every 250 ms, and clears itself", () => {
    let now = 0;
    const written: string[] = [];
    const p = terminalProgress({ write: (s) => written.push(s), nowMs: () => now });
    now = 1000;
    p.onListing("relay-a", 20_000);
    now = 1100;
    p.onListing("relay-a", 22_000); // too soon: not redrawn
    now = 2000;
    p.onListing("relay-a", 40_000);
    expect(written).toEqual([
      "\r\x1b[K⏳ relay-a: 20,000 messages listed (20,000/s)",
      "\r\x1b[K⏳ relay-a: 40,000 messages listed (20,000/s)",
    ]);
    p.done();
    expect(written.at(-1)).toBe("\r\x1b[K");
    now = 3000;
    p.onListing("relay-b", 1000);
    expect(written.at(-1)).toBe("\r\x1b[K⏳ 2 relays: 41,000 messages listed (13,667/s)");
    p.stop();
    now = 4000;
    p.onListing("relay-b", 2000);
    expect(written.at(-1)).toBe("\r\x1b[K");
  });
});
