/**
 * `npm run demo` end to end, in its own root with a small queue: the bot's numbers equal
 * `postqueue -j` on the demo relay, and `npm run demo -- down` leaves no process, file or
 * user of the demo behind, without stopping the resolver the other labs (this run's) use.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { fullCardWithinMs } from "../helpers/deadlines.js";
import {
  DEFAULT_LAB_BASE,
  dnsUsers,
  GATE_USER,
  labDnsmasqPid,
  postqueueJson,
  RUN_DIR,
  readLabData,
  SUDO_USER,
  SUDOERS_FILE,
  scanLabProcesses,
} from "../lab/lab.js";
import { run } from "../lab/sys.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ROOT = join(DEFAULT_LAB_BASE, `demo-test-${randomBytes(4).toString("hex")}`);
const MESSAGES = 300;

/** No kill timer of its own (0): the demo's setup has no deadline but vitest's; status gets the bot's. */
const npm = (args: string[], timeoutMs = 0) =>
  run(["npm", "run", "--silent", ...args], { cwd: REPO, timeoutMs });
/** The demo's script without npm in front, for refusals that must come before anything starts. */
const demoScript = (args: string[]) =>
  run([process.execPath, "--import", "tsx", "scripts/demo.ts", ...args], { cwd: REPO });
const demo = (args: string[]) => npm(["demo", "--", ...args, "--root", ROOT]);

const users = async () =>
  new Set(
    (await readFile("/etc/passwd", "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(":")[0]),
  );

/** The lab's machine-wide files that name a root: gate sudoers, Postfix's config-dir list, the lab registries. */
async function filesNaming(root: string): Promise<string[]> {
  const dirs = ["/etc/sudoers.d", join(RUN_DIR, "dns-users"), join(RUN_DIR, "config-dirs")];
  const files = ["/etc/postfix/main.cf"];
  for (const d of dirs) for (const f of await readdir(d).catch(() => [] as string[])) files.push(join(d, f));
  const naming: string[] = [];
  for (const f of files) if ((await readFile(f, "utf8").catch(() => "")).includes(`${root}/`)) naming.push(f);
  return naming;
}
const LAB_SHARED = ["/etc/postfix/main.cf", SUDOERS_FILE];

let usersBefore = new Set<string | undefined>();
let sharedBefore: string[] = [];
let up: Awaited<ReturnType<typeof run>>;

beforeAll(async () => {
  usersBefore = await users();
  sharedBefore = LAB_SHARED.filter((f) => existsSync(f));
  up = await demo(["--messages", String(MESSAGES)]);
});

afterAll(async () => {
  if (existsSync(ROOT)) await demo(["down"]);
});

describe("npm run demo", () => {
  it("refuses a bad message count or root, and starts nothing", async () => {
    const bad = await demoScript(["--messages", "lots", "--root", `${ROOT}-bad`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--messages takes a whole number from 10 to 100000, not "lots"/);
    const outside = await demoScript(["down", "--root", "/tmp/mailq-demo"]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/--root must be a directory directly under \/var\/lib\/mailq-lab\//);
    expect(existsSync(`${ROOT}-bad`)).toBe(false);
  });

  it("prints the status card, the triage card and a watch update after a release", () => {
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/== relay-demo: \d+ deferred · \d+ on hold/);
    expect(up.stdout).toMatch(/== triage of relay-demo \(read-only\)/);
    expect(up.stdout).toMatch(/-- update 1 at [^\n]*\n== relay-demo:[^\n]*\n[^\n]*\n[^\n]*hold −\d+/);
  });

  it("leaves a relay whose status, by the printed mailq.yaml, equals postqueue -j", async () => {
    const configPath = /npm start -- status --config (\S+)\n/.exec(up.stdout)?.[1] ?? "";
    expect(configPath).toBe(join(ROOT, "mailq.yaml"));
    // --wait-full: the complete answer, even if a loaded machine makes the listing slower than firstAnswerAfter.
    const status = await npm(
      ["start", "--", "status", "--config", configPath, "--json", "--wait-full"],
      fullCardWithinMs(loadConfig({ file: configPath, env: {}, cwd: REPO })),
    );
    const [relay] = (await readLabData(ROOT)).relays;
    if (!relay) throw new Error("lab.json has no relay");
    const listing = await postqueueJson(relay);
    expect(status.code, status.stderr).toBe(0);
    const snap = (
      JSON.parse(status.stdout) as { relays: { messages: number; queues: Record<string, number> }[] }
    ).relays[0];
    const byQueue: Record<string, number> = { maildrop: 0, incoming: 0, active: 0, deferred: 0, hold: 0 };
    for (const e of listing) byQueue[e.queue_name] = (byQueue[e.queue_name] ?? 0) + 1;
    expect(snap?.queues).toEqual(byQueue);
    expect(snap?.messages).toBe(listing.length);
    // The promised picture: every message stuck, some on hold, each cause, several senders.
    expect(listing.length).toBe(MESSAGES);
    expect(byQueue.hold).toBeGreaterThan(0);
    const reasons = listing.flatMap((e) => e.recipients.map((r) => r.delay_reason ?? ""));
    for (const cause of [
      /Connection refused/,
      /said: 451 4\.7\.1/,
      /said: 450 4\.2\.0 Greylisted/,
      /type=MX: Host not found, try again/,
    ])
      expect(
        reasons.some((r) => cause.test(r)),
        String(cause),
      ).toBe(true);
    expect(new Set(listing.map((e) => e.sender)).size).toBeGreaterThan(3);
  });

  it("down leaves no process, file or user of the demo, and the shared resolver running", async () => {
    expect(await scanLabProcesses(ROOT)).not.toEqual([]);
    expect(await filesNaming(ROOT)).not.toEqual([]);

    const down = await demo(["down"]);
    expect(down.code, down.stderr).toBe(0);
    expect(existsSync(ROOT)).toBe(false);
    expect(await scanLabProcesses(ROOT)).toEqual([]);
    expect(await filesNaming(ROOT)).toEqual([]);
    // The users a demo can create are the lab's own; other tests (the runbook's) add users of
    // their own meanwhile, which are not the demo's to remove.
    const demoUsers = new Set([SUDO_USER, GATE_USER]);
    expect([...(await users())].filter((u) => u && demoUsers.has(u) && !usersBefore.has(u))).toEqual([]);
    expect(LAB_SHARED.filter((f) => existsSync(f))).toEqual(sharedBefore);
    // This run's lab still uses the resolver: the demo's down must not have stopped it.
    expect((await dnsUsers()).length).toBeGreaterThan(0);
    expect(await labDnsmasqPid()).not.toBeNull();
  });
});
