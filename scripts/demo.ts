/**
 * `npm run demo`: the bot on a realistic stuck queue, without touching any real relay. Starts a
 * relay lab (test/lab: real Postfix behind real sshd on 127.0.0.1, a local-only resolver),
 * fills its relay with ~10,000 messages over SMTP (refused, 451 throttling, DNS SERVFAIL,
 * greylisting, some on hold; see demo/plan.ts), prints the status and triage cards as the CLI
 * does, releases some held mail between two watch updates, and leaves the relay running with
 * a mailq.yaml to try the other commands on. `npm run demo -- down` removes it all.
 * Root on Debian (like the tests); the npm script installs the lab's packages first.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import * as z from "zod";
import { sendRange, waitSettled } from "../bench/fill.js";
import { main as cli, watchCli } from "../src/cli.js";
import type { CliIo } from "../src/cli-io.js";
import { loadConfig } from "../src/config.js";
import { postsuperArgv } from "../src/relay/argv.js";
import { labRelayEntry } from "../test/helpers/lab-relay.js";
import { type LabRelay, labExec, startLab, stopLabAt } from "../test/lab/lab.js";
import { DEMO_ROOT, DEMO_USAGE, type DemoArgs, parseDemoArgs } from "./demo/args.js";
import { createdSchema, notYetPresent, removeCreated } from "./demo/machine.js";
import { demoMessage } from "./demo/plan.js";

const RELAY = "relay-demo";
const RECORD = "demo.json";
const WATCH_EVERY_MS = 30_000;

const recordSchema = z.object({ messages: z.number(), startedAt: z.string(), created: createdSchema });
type DemoRecord = z.infer<typeof recordSchema>;

const say = (s: string) => process.stdout.write(`${s}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const cliIo = (argv: string[]): CliIo => ({
  argv,
  env: process.env,
  cwd: process.cwd(),
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  nowMs: Date.now,
});

/** `npm start -- <args>` in this process, shown with its command line; its exit status. */
async function show(args: string[]): Promise<number> {
  say(`$ npm start -- ${args.join(" ")}`);
  const code = await cli(cliIo(args));
  say("");
  return code;
}

/** The bot's config for the demo relay: the lab's, plus the lab resolver for triage's dig. */
async function writeDemoConfig(root: string, r: LabRelay): Promise<string> {
  const path = join(root, "mailq.yaml");
  const config = { relays: [labRelayEntry(r, { resolver: "127.0.0.1" })] };
  await writeFile(
    path,
    `# mailq-bot demo relay on 127.0.0.1 (npm run demo); removed by npm run demo -- down\n${stringify(config)}`,
  );
  return path;
}

/** Fills the relay, waits until every message was tried once, holds the planned ones. */
async function fill(relay: LabRelay, messages: number): Promise<string[]> {
  // Bulk arrival: no inflow pause per message (in_flow_delay), room for 24 parallel smtpd sessions.
  const tune = await labExec(relay, ["postconf", "-e", "in_flow_delay = 0", "default_process_limit = 200"]);
  const reload = await labExec(relay, ["postfix", "reload"]);
  if (tune.code !== 0 || reload.code !== 0)
    throw new Error(`tuning ${relay.name}: ${tune.stderr}${reload.stderr}`);
  const sent = await sendRange(relay, 0, messages, 24, demoMessage);
  say(`  ${sent.sent.toLocaleString("en")} messages accepted over SMTP in ${secs(sent.seconds * 1000)}`);
  await waitSettled(relay, messages, Math.max(60_000, messages * 30), () => {});
  const held = await labExec(relay, postsuperArgv("hold", "deferred", false), `${sent.heldIds.join("\n")}\n`);
  if (held.code !== 0) throw new Error(`postsuper -h: ${held.stderr.trim()}`);
  return sent.heldIds;
}

async function up(o: { messages: number; root: string }): Promise<number> {
  const downCmd = `npm run demo -- down${o.root === DEMO_ROOT ? "" : ` --root ${o.root}`}`;
  if (existsSync(o.root)) {
    process.stderr.write(`demo: ${o.root} already exists; remove the running demo first: ${downCmd}\n`);
    return 1;
  }
  const t0 = Date.now();
  const created = await notYetPresent();
  say(
    `mailq-bot demo: a relay lab on 127.0.0.1 with a stuck queue of ${o.messages.toLocaleString("en")} messages`,
  );
  let lab: Awaited<ReturnType<typeof startLab>>;
  try {
    lab = await startLab({ root: o.root, relays: [RELAY] });
  } catch (e) {
    await removeCreated(created);
    throw e;
  }
  try {
    const record: DemoRecord = { messages: o.messages, startedAt: new Date().toISOString(), created };
    await writeFile(join(o.root, RECORD), `${JSON.stringify(record, null, 2)}\n`);
    const relay = lab.relays[0];
    if (!relay) throw new Error("the lab started without its relay");
    const configPath = await writeDemoConfig(o.root, relay);
    say(
      `  relay ${relay.name} up in ${secs(Date.now() - t0)} (Postfix on 127.0.0.1:${relay.smtpPort}, sshd on :${relay.port})`,
    );

    const t1 = Date.now();
    const heldIds = await fill(relay, o.messages);
    say(
      `  every message tried once and deferred (${heldIds.length.toLocaleString("en")} then put on hold) after ${secs(Date.now() - t1)}`,
    );
    say("");

    const codes = [
      await show(["status", "--config", configPath]),
      await show(["triage", "--config", configPath]),
    ];

    const release = heldIds.slice(0, Math.ceil(heldIds.length / 2));
    say(
      `$ npm start -- watch --config ${configPath} --every 30s   (between update 0 and 1 the demo releases ${release.length.toLocaleString("en")} held messages)`,
    );
    const config = loadConfig({ file: configPath, env: process.env, cwd: process.cwd() });
    const ac = new AbortController();
    let releasedAlready = false;
    await watchCli(config, { everyMs: WATCH_EVERY_MS }, cliIo([]), ac.signal, async () => {
      if (releasedAlready) return ac.abort(); // after update 1
      releasedAlready = true;
      // What an approved `/mailq release` runs: exactly these IDs, on stdin.
      const argv = postsuperArgv("release", "hold", false);
      const r = await labExec(relay, argv, `${release.join("\n")}\n`);
      if (r.code !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.trim()}`);
      say(`-- released: ${argv.join(" ")} with ${release.length.toLocaleString("en")} queue IDs on stdin`);
    });

    say("");
    say(
      `The demo relay keeps running on 127.0.0.1 (${secs(Date.now() - t0)} to set up). Its configuration, ${configPath}:`,
    );
    for (const line of (await readFile(configPath, "utf8")).trimEnd().split("\n")) say(`  ${line}`);
    say("Try:");
    say(`  npm start -- status --config ${configPath}`);
    say(`  npm start -- triage --config ${configPath} --json`);
    say(`  npm start -- watch --config ${configPath} --every 30s`);
    say(`Remove it all (relay, processes, files, the lab users it created): ${downCmd}`);
    if (codes.some((c) => c !== 0)) {
      process.stderr.write(
        "demo: the bot did not get a full answer from the demo relay (see above); it is left running to look into\n",
      );
      return 1;
    }
    return 0;
  } catch (e) {
    process.stderr.write("demo: setup failed; removing what it started\n");
    await stopLabAt(o.root);
    await removeCreated(created);
    throw e;
  }
}

async function down(root: string): Promise<number> {
  if (!existsSync(root)) {
    say(`demo: nothing to remove at ${root}`);
    return 0;
  }
  const text = await readFile(join(root, RECORD), "utf8").catch(() => null);
  if (text === null) {
    process.stderr.write(
      `demo: ${root} is not a demo (no ${RECORD}); a lab there stops with: npx tsx test/lab/cli.ts down --root ${root}\n`,
    );
    return 1;
  }
  let record: DemoRecord;
  try {
    record = recordSchema.parse(JSON.parse(text));
  } catch (e) {
    process.stderr.write(
      `demo: ${join(root, RECORD)} is damaged (${e instanceof Error ? e.message.slice(0, 300) : e}); stop the lab with: npx tsx test/lab/cli.ts down --root ${root}\n`,
    );
    return 1;
  }
  await stopLabAt(root);
  say(`demo: removed ${root} (relay, processes, files)`);
  for (const line of await removeCreated(record.created)) say(`demo: ${line}`);
  return 0;
}

async function run(args: DemoArgs): Promise<number> {
  return args.cmd === "down" ? down(args.root) : up(args);
}

const args = parseDemoArgs(process.argv.slice(2));
if ("error" in args) {
  process.stderr.write(`demo: ${args.error}\n${DEMO_USAGE}\n`);
  process.exitCode = 2;
} else if (process.getuid?.() !== 0) {
  process.stderr.write("demo: the relay lab needs root (Debian): sudo npm run demo\n");
  process.exitCode = 1;
} else {
  run(args).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
