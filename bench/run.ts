/**
 * `npm run bench`: the scale benchmark. Starts its own relay lab, fills one relay to N messages
 * (BENCH_MESSAGES or argv[2], default 100,000), measures `postqueue -j` (the floor), `qshape
 * deferred` and `mailq-bot status` several times each, compares the bot's deferral analysis of a
 * 1,000,000-line mail log with pflogsumm, runs the parser on its own, and writes bench/results.md
 * (+ results.json). The lab is stopped at the end, also on failure. See bench/README.md.
 */
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { RelaySnapshot } from "../src/analysis/snapshot.js";
import { statusCard } from "../src/cards/status.js";
import { type Lab, type LabRelay, readLabData, startLab, stopLabAt } from "../test/lab/lab.js";
import { cloneQueue } from "./clone.js";
import { allowedCpus, coreSplit, pinLab } from "./cores.js";
import { holdIds, queueCounts, sendRange, tuneForFill, waitSettled } from "./fill.js";
import { fleetBench } from "./fleet.js";
import {
  exec,
  execOk,
  loadavg1,
  log,
  type Measured,
  machine,
  type RunOpts,
  sshArgv,
  stats,
  timed,
} from "./lib.js";
import { writeMaillog } from "./maillog.js";
import { comparePflogsumm } from "./pflogsumm.js";
import { writeResults } from "./report.js";
import type { BenchResults, Series } from "./types.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "..");
/** `npm run bench -- --relays 50`: the fleet benchmark instead (fleet.ts). */
const FLEET_AT = process.argv.indexOf("--relays");
const N = Number((FLEET_AT === -1 ? process.argv[2] : undefined) ?? process.env.BENCH_MESSAGES ?? 100_000);
/** Above this many messages the rest of the queue is cloned from real queue files (see clone.ts). */
const SMTP_MAX = Number(process.env.BENCH_SMTP_MAX ?? 100_000);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const LOG_LINES = Number(process.env.BENCH_LOG_LINES ?? 1_000_000);
const PARSER_LINES = Number(process.env.BENCH_PARSER_LINES ?? 1_000_000);
/** The CLI bundled as `npm run build` ships it (scripts/build.ts); the helpers below compiled by tsc. */
const CLI = join(REPO, "bench/.build/cli/cli.js");
const IN_PROCESS = join(REPO, "bench/.build/bench/in-process.js");
/** As deploy/mailq-bot.service and the Dockerfile run the bot: a 4 MB young generation. */
const BOT_NODE_OPTIONS = process.env.BENCH_BOT_NODE_OPTIONS ?? "--max-semi-space-size=4";
const SERIES = (
  process.env.BENCH_SERIES ??
  "floorSsh,floorWire,floorLocal,qshape,bot,botService,botFirst,botRoot,botLocal,botZ,botLogin,botFirstLogin,botFirstLoginCold,floorSshLogin,floorWireLogin,botStart"
).split(",");

/** BENCH_CORES=split: the relay's processes and the measured clients on CPUs of their own (bench/cores.ts). */
const CPUS = await allowedCpus();
const SPLIT = coreSplit(process.env.BENCH_CORES, CPUS);
/** Where a measured client runs, and where a measurement that stands on the relay itself runs. */
const ON_CLIENT: RunOpts = SPLIT ? { cpus: SPLIT.client } : {};
const ON_RELAY: RunOpts = SPLIT ? { cpus: SPLIT.relay } : {};

/** The first relay of a `status --json` document; undefined when the process printed none. */
const firstRelay = (stdout: string) =>
  (JSON.parse(stdout || "{}") as { relays?: RelaySnapshot[] }).relays?.[0];

function cardSize(json: string, entries: number, source: string) {
  const doc = JSON.parse(json) as { relays: RelaySnapshot[] };
  return {
    entries,
    source,
    cardJsonBytes: JSON.stringify(statusCard(doc.relays, { nowMs: Date.now() })).length,
  };
}

async function fillTo(relay: LabRelay, from: number, to: number, r: BenchResults): Promise<void> {
  log(`SMTP: messages ${from}..${to}`);
  const sent = await sendRange(relay, from, to);
  log(`SMTP: ${sent.sent} in ${sent.seconds.toFixed(1)} s (${(sent.sent / sent.seconds).toFixed(0)}/s)`);
  const t = Date.now();
  await waitSettled(relay, to);
  r.fill.settleSeconds += (Date.now() - t) / 1000;
  await holdIds(relay, sent.heldIds);
  r.fill.smtpMessages += sent.sent;
  r.fill.smtpSeconds += sent.seconds;
}

async function listedCount(relay: LabRelay): Promise<number> {
  const out = await execOk(["sh", "-c", "postqueue -j | wc -l"], {
    env: { ...process.env, MAIL_CONFIG: relay.configDir },
  });
  return Number(out.trim());
}

/** A private copy of the bot in bench/.build: the CLI as shipped, the in-process helpers by tsc. */
async function buildBot(): Promise<void> {
  log("building a private copy of the bot into bench/.build");
  await rm(join(HERE, ".build"), { recursive: true, force: true });
  await exec(["npx", "tsc", "-p", join(HERE, "tsconfig.build.json")], { cwd: REPO });
  await execOk(["npx", "tsx", "scripts/build.ts", join(HERE, ".build/cli")], { cwd: REPO });
  if (!existsSync(CLI)) throw new Error(`build failed: no ${CLI}`);
  // Every node process from here on is the bot's code, run as production runs it.
  process.env.NODE_OPTIONS = BOT_NODE_OPTIONS;
}

async function main(): Promise<void> {
  if (!process.env.BENCH_SKIP_INSTALL) await execOk(["bash", join(HERE, "install.sh")]);
  await buildBot();

  const r: BenchResults = {
    date: new Date().toISOString(),
    machine: await machine(),
    n: N,
    queueBuild: [],
    botNodeOptions: BOT_NODE_OPTIONS,
    cores: SPLIT,
    fill: { smtpMessages: 0, smtpSeconds: 0, settleSeconds: 0, cloned: 0, cloneSeconds: 0 },
    queueOnDisk: {},
    listed: 0,
    instanceSettings: [],
    queue: [],
    cards: [],
    firstAnswers: [],
    log: null,
    parser: null,
  };

  const root = process.env.BENCH_LAB_ROOT ?? `/var/lib/mailq-lab/bench-${process.pid}`;
  log(`starting the lab at ${root}`);
  // BENCH_REUSE_LAB=1 measures again on a lab an earlier run filled and kept (BENCH_KEEP_LAB=1).
  const reuse = !!process.env.BENCH_REUSE_LAB && existsSync(join(root, "lab.json"));
  const lab: Lab = reuse
    ? { ...(await readLabData(root)), stop: () => stopLabAt(root) }
    : await startLab({ root, relays: ["bench"] });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    if (process.env.BENCH_KEEP_LAB) {
      log(`leaving the lab running (BENCH_KEEP_LAB): npx tsx test/lab/cli.ts down --root ${root}`);
      return;
    }
    log("stopping the lab");
    await lab.stop().catch((e) => log(`lab stop: ${String(e)}`));
  };
  const onSignal = () => void stop().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const relay = lab.relays[0] as LabRelay;
    // The bot as deployed (deploy/RUNBOOK.md): the gate user, its forced command and sudo.
    const cfg = join(root, "mailq-gate.yaml");
    const botArgv = (extra: string[], config = cfg) => [
      "node",
      CLI,
      "status",
      "--json",
      "--relay",
      relay.name,
      "--config",
      config,
      ...extra,
    ];
    if (reuse)
      r.queueBuild.push(
        `measured on the lab an earlier run filled and kept (BENCH_KEEP_LAB=1, then BENCH_REUSE_LAB=1): ${root}`,
      );
    else {
      r.instanceSettings = await tuneForFill(relay);

      // 1,000 messages first: the card's size at a small queue.
      const small = Math.min(1_000, N);
      await fillTo(relay, 0, small, r);
      const s1 = await timed(botArgv(["--wait-full"]), { keepStdout: true });
      r.cards.push(cardSize(s1.stdout, small, "status --json at the lab relay"));

      const smtpTo = Math.min(N, SMTP_MAX);
      if (smtpTo > small) await fillTo(relay, small, smtpTo, r);
      r.queueBuild.push(
        `${r.fill.smtpMessages} messages sent over SMTP to the relay's smtpd (24 pipelined connections), each tried once by Postfix and deferred for real (or put on hold)`,
      );
      if (N > smtpTo) {
        const t = Date.now();
        const c = await cloneQueue(relay, N - smtpTo);
        r.fill.cloned = c.cloned;
        r.fill.cloneSeconds = (Date.now() - t) / 1000;
        r.queueBuild.push(...c.notes);
      }
    }
    r.queueOnDisk = await queueCounts(relay);
    r.listed = await listedCount(relay);
    log(`queue on disk ${JSON.stringify(r.queueOnDisk)}; postqueue -j lists ${r.listed}`);

    const series: Record<string, Series> = {
      floorSsh: {
        name: "postqueue -j > /dev/null over SSH",
        what: "OpenSSH client → relay sshd → postqueue, as the lab's unprivileged user (floor)",
        runs: [],
      },
      floorWire: {
        name: "postqueue -j over SSH, the listing carried to the client",
        what: "the same, but the listing crosses the wire and the ssh client writes it to /dev/null: the least a full status must do (floor carried)",
        runs: [],
      },
      floorLocal: {
        name: "postqueue -j > /dev/null on the relay",
        what: "run locally on the relay, no SSH",
        runs: [],
      },
      qshape: {
        name: "qshape deferred",
        what: "run locally on the relay (Perl reads every queue file)",
        runs: [],
      },
      bot: {
        name: "mailq-bot status --json --wait-full",
        what: "the bot's own process (node, the bundle `npm run build` ships), over SSH as deployed (gate user: forced command + sudo), all probes, full listing",
        runs: [],
      },
      botService: {
        name: "in the running service: /mailq status until the complete card",
        what: "what the Slack command costs: the same use case inside a process that started and warmed up before it (one status not counted), its own new SSH connection (gate user), the Block Kit card built, the snapshot stored; RSS is that process's peak",
        runs: [],
      },
      botRoot: {
        name: "as root: mailq-bot status --json --wait-full",
        what: "the same, logged in as root: root's shell here sources a .bashrc running pyenv init (≈0.1 s CPU per SSH command)",
        runs: [],
      },
      botFirst: {
        name: "mailq-bot status --json (first answer)",
        what: "the bot's own process until its first card (gate user, /bin/sh login: light), default probes.firstAnswerAfter",
        runs: [],
      },
      botLocal: {
        name: "local relay: mailq-bot status --json --wait-full",
        what: "the bot on the relay itself (`local` relay, no SSH, MAIL_CONFIG of the instance), full listing",
        runs: [],
      },
      botZ: {
        name: "with zlib: mailq-bot status --json --wait-full",
        what: "as deployed (gate user) with probes.compression: true, full listing",
        runs: [],
      },
      floorSshLogin: {
        name: "login cost 1 s: postqueue -j > /dev/null over SSH",
        what: `the floor as ${"`mailqlab`"} (bash) whose ~/.bashrc sleeps 1 s: the login cost paid once`,
        runs: [],
      },
      floorWireLogin: {
        name: "login cost 1 s: postqueue -j over SSH, the listing carried to the client",
        what: "the carried floor with the same 1 s login cost, paid once",
        runs: [],
      },
      botLogin: {
        name: "login cost 1 s: mailq-bot status --json --wait-full",
        what: "as the lab's sudo user (bash, sudo -n) whose ~/.bashrc sleeps 1 s on every SSH command, full listing",
        runs: [],
      },
      botFirstLogin: {
        name: "login cost 1 s: mailq-bot status --json (first answer)",
        what: "the same login cost of 1 s per SSH command, until the first card; the store holds the relay's last snapshot (its queue directory is remembered), as after any earlier status or watch",
        runs: [],
      },
      botStart: {
        name: "start-up: mailq-bot status --json, its relay refusing the connection",
        what: "the fixed cost of every terminal command (and of the image's health check): node starts, loads the bundle, reads the configuration, opens the store, the SSH connect is refused at once, the document is printed",
        runs: [],
      },
      botFirstLoginCold: {
        name: "login cost 1 s, nothing remembered: mailq-bot status --json (first answer)",
        what: "the same with an empty store, as a relay's very first status: the counts wait for postconf to name the queue directory",
        runs: [],
      },
    };
    const env = { ...process.env, MAIL_CONFIG: relay.configDir };
    const sudoCfg = join(root, "mailq-sudo.yaml");
    // An empty store for every run: nothing remembered about the relay.
    const coldCfg = join(root, "mailq-sudo-cold.yaml");
    const coldDir = join(root, "cold");
    await writeFile(coldCfg, `store:\n  path: ./cold/mailq.sqlite\n${await readFile(sudoCfg, "utf8")}`);
    // A relay on a closed loopback port: what a status costs before any relay answers.
    const closedCfg = join(root, "mailq-closed.yaml");
    await writeFile(
      closedCfg,
      stringify({
        relays: [
          {
            name: "closed",
            host: "127.0.0.1",
            port: 1,
            username: relay.gateUsername,
            privateKeyPath: relay.privateKeyPath,
            hostKeyFingerprint: `SHA256:${"A".repeat(43)}`,
          },
        ],
        store: { path: "./closed/mailq.sqlite" },
      }),
    );
    const zCfg = join(root, "mailq-gate-zlib.yaml");
    await writeFile(zCfg, `probes:\n  compression: true\n${await readFile(cfg, "utf8")}`);
    // The local relay: no configuration file in its working folder, the instance's MAIL_CONFIG.
    const localDir = join(root, "bench-local");
    await mkdir(localDir, { recursive: true });
    const localEnv: NodeJS.ProcessEnv = { ...env };
    delete localEnv.MAILQ_CONFIG;
    // Every SSH command starts the user's shell; bash reads ~/.bashrc (HOME is the relay's ssh/home).
    const bashrc = join(root, relay.name, "ssh", "home", ".bashrc");
    const withLoginCost = async (run: () => Promise<Measured>): Promise<Measured> => {
      await writeFile(bashrc, "sleep 1\n");
      try {
        return await run();
      } finally {
        await rm(bashrc, { force: true });
      }
    };
    // The process's own timing of the measured status replaces its whole life's (start, warm-up).
    const inService = async (config: string): Promise<Measured> => {
      const m = await timed(["node", IN_PROCESS, "--config", config, "--relay", relay.name], {
        ...ON_CLIENT,
        keepStdout: true,
      });
      if (m.code !== 0) return m;
      const o = JSON.parse(m.stdout) as { wall: number; cpu: number; document: unknown };
      return { ...m, wall: o.wall, cpu: o.cpu, stdout: JSON.stringify(o.document) };
    };
    const allRunners: [keyof typeof series, () => Promise<Measured>][] = [
      [
        "floorSsh",
        () =>
          timed(
            sshArgv(relay, lab.knownHostsPath, "/usr/sbin/postqueue -j > /dev/null", relay.sudoUsername),
            ON_CLIENT,
          ),
      ],
      [
        "floorWire",
        () =>
          timed(sshArgv(relay, lab.knownHostsPath, "/usr/sbin/postqueue -j", relay.sudoUsername), {
            ...ON_CLIENT,
            discardStdout: true,
          }),
      ],
      ["floorLocal", () => timed(["sh", "-c", "postqueue -j > /dev/null"], { ...ON_RELAY, env })],
      ["qshape", () => timed(["/usr/sbin/qshape", "-c", relay.configDir, "deferred"], { ...ON_RELAY, env })],
      ["bot", () => timed(botArgv(["--wait-full"]), { ...ON_CLIENT, keepStdout: true })],
      ["botService", () => inService(cfg)],
      ["botFirst", () => timed(botArgv([]), { ...ON_CLIENT, keepStdout: true })],
      ["botRoot", () => timed(botArgv(["--wait-full"], lab.mailqConfigPath), ON_CLIENT)],
      [
        "botLocal",
        () =>
          timed(["node", CLI, "status", "--json", "--wait-full"], {
            ...ON_RELAY,
            env: localEnv,
            cwd: localDir,
            keepStdout: true,
          }),
      ],
      ["botZ", () => timed(botArgv(["--wait-full"], zCfg), { ...ON_CLIENT, keepStdout: true })],
      [
        "botStart",
        async () => {
          const m = await timed(["node", CLI, "status", "--json", "--config", closedCfg], {
            ...ON_CLIENT,
            keepStdout: true,
          });
          // Exit 1 is the answer here (the relay did not answer); anything else is a failure.
          const s = firstRelay(m.stdout);
          return m.code === 1 && s?.ok === false ? { ...m, code: 0 } : m;
        },
      ],
      [
        "floorSshLogin",
        () =>
          withLoginCost(() =>
            timed(
              sshArgv(relay, lab.knownHostsPath, "/usr/sbin/postqueue -j > /dev/null", relay.sudoUsername),
              ON_CLIENT,
            ),
          ),
      ],
      [
        "floorWireLogin",
        () =>
          withLoginCost(() =>
            timed(sshArgv(relay, lab.knownHostsPath, "/usr/sbin/postqueue -j", relay.sudoUsername), {
              ...ON_CLIENT,
              discardStdout: true,
            }),
          ),
      ],
      [
        "botLogin",
        () =>
          withLoginCost(() => timed(botArgv(["--wait-full"], sudoCfg), { ...ON_CLIENT, keepStdout: true })),
      ],
      [
        "botFirstLogin",
        () => withLoginCost(() => timed(botArgv([], sudoCfg), { ...ON_CLIENT, keepStdout: true })),
      ],
      [
        "botFirstLoginCold",
        async () => {
          await rm(coldDir, { recursive: true, force: true });
          return withLoginCost(() => timed(botArgv([], coldCfg), { ...ON_CLIENT, keepStdout: true }));
        },
      ],
    ];
    const runners = allRunners.filter(([k]) => SERIES.includes(k));
    // Shared: every CPU, which also frees a kept lab that a split run pinned.
    const pinned = await pinLab(root, SPLIT ? SPLIT.relay : CPUS.join(","));
    if (SPLIT)
      log(
        `BENCH_CORES=split: ${pinned} lab processes on CPU ${SPLIT.relay}, every measured client on CPU ${SPLIT.client}`,
      );
    log("warm-up run of each (not counted)");
    for (const [, run] of runners) await run();
    for (let rep = 1; rep <= REPS; rep++) {
      for (const [key, run] of runners) {
        const m = await run();
        if (m.code !== 0) log(`${key} exited ${m.code}: ${m.stderr.trim().slice(0, 300)}`);
        series[key]?.runs.push({ ...m, stdout: "" });
        log(
          `rep ${rep} ${key}: ${m.wall.toFixed(2)} s, cpu ${m.cpu.toFixed(2)} s, ${m.rssMb.toFixed(0)} MB (load ${m.load1})`,
        );
        if (["bot", "botService", "botLocal", "botZ", "botLogin"].includes(key)) {
          // Honesty: a --wait-full run counts only if it read the whole listing.
          const s = firstRelay(m.stdout);
          if (!s?.listing.complete || s.listing.entriesRead !== r.listed)
            throw new Error(
              `${key}: status --wait-full read ${s?.listing.entriesRead} of ${r.listed} entries`,
            );
        }
        if (key === "bot" && rep === REPS)
          r.cards.push(cardSize(m.stdout, N, "status --json at the lab relay"));
        if ((key === "botFirst" || key === "botFirstLogin" || key === "botFirstLoginCold") && rep === REPS) {
          const s = (JSON.parse(m.stdout) as { relays: RelaySnapshot[] }).relays[0];
          if (s)
            r.firstAnswers.push({
              series: series[key]?.name ?? key,
              entriesRead: s.listing.entriesRead,
              complete: s.listing.complete,
              messages: s.messages,
              causesFromLog: !s.listing.complete && (s.log?.reasons.length ?? 0) > 0,
              countsExact: s.listing.countsExact,
            });
        }
      }
    }
    r.queue = Object.entries(series)
      .filter(([k]) => SERIES.includes(k))
      .map(([, v]) => v);

    // The mail log: pflogsumm against the bot's deferral analysis of the same file.
    if (!process.env.BENCH_SKIP_LOG) await logBench(root, r);
    if (!process.env.BENCH_SKIP_PARSER) await parserBench(r);

    const out = process.env.BENCH_RESULTS ?? join(HERE, "results.md");
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out.replace(/\.md$/, ".json"), `${JSON.stringify(r, null, 2)}\n`);
    await writeFile(out, writeResults(r, { stats, loadNow: await loadavg1() }));
    log(`wrote ${out}`);
  } finally {
    await stop();
  }
}

async function logBench(root: string, r: BenchResults): Promise<void> {
  const logFile = join(root, "bench-maillog.txt");
  log(`generating a ${LOG_LINES}-line mail log`);
  const endMs = Date.UTC(2026, 10, 21, 23, 59, 59);
  await writeMaillog(logFile, LOG_LINES, endMs);
  const logSeries: Series[] = [
    { name: "pflogsumm --verbose-msg-detail", what: "full reasons (used for the comparison)", runs: [] },
    { name: "pflogsumm", what: "default report (reasons trimmed to 65 chars)", runs: [] },
    {
      name: "bot deferral analysis",
      what: "bench/log-analysis.ts: file → LogAccumulator, own process",
      runs: [],
    },
  ];
  let pflOut = "";
  let botOut = "";
  for (let rep = 1; rep <= Math.max(3, Math.min(REPS, 5)); rep++) {
    const a = await timed(["/usr/sbin/pflogsumm", "--verbose-msg-detail", logFile], {
      keepStdout: rep === 1,
    });
    if (rep === 1) pflOut = a.stdout;
    const b = await timed(["/usr/sbin/pflogsumm", logFile]);
    const c = await timed(
      ["node", join(HERE, ".build/bench/log-analysis.js"), logFile, new Date(endMs).toISOString()],
      { keepStdout: rep === 1 },
    );
    if (rep === 1) botOut = c.stdout;
    for (const [i, m] of [a, b, c].entries()) logSeries[i]?.runs.push({ ...m, stdout: "" });
    log(`log rep ${rep}: pflogsumm -v ${a.wall} s, pflogsumm ${b.wall} s, bot ${c.wall} s`);
  }
  r.log = {
    lines: LOG_LINES,
    bytes: statSync(logFile).size,
    series: logSeries,
    comparison: comparePflogsumm(pflOut, botOut),
  };
  await rm(logFile, { force: true });
}

async function parserBench(r: BenchResults): Promise<void> {
  const parserSeries: Series = {
    name: `parser: ${PARSER_LINES} synthetic postqueue -j lines`,
    what: "bench/parser.ts: splitter → parsePostqueueJsonLine → QueueAccumulator",
    runs: [],
  };
  let parserResult: Record<string, unknown> = {};
  for (let rep = 1; rep <= 3; rep++) {
    const m = await timed(["node", join(HERE, ".build/bench/parser.js"), String(PARSER_LINES)], {
      keepStdout: true,
    });
    parserSeries.runs.push({ ...m, stdout: "" });
    parserResult = JSON.parse(m.stdout) as Record<string, unknown>;
    log(`parser rep ${rep}: ${m.wall} s, ${parserResult.linesPerSecond} lines/s, ${m.rssMb.toFixed(0)} MB`);
  }
  r.parser = { series: parserSeries, result: parserResult };
  for (const c of (parserResult.cards ?? []) as { entries: number; cardJsonBytes: number }[])
    r.cards.push({ ...c, source: "parser.ts synthetic listing (queue part of the card only)" });
}

async function fleetMain(): Promise<void> {
  // Fifty relays are fifty machines in production; here they share the cores whatever the split.
  if (SPLIT) throw new Error("BENCH_CORES=split is for one relay against its floor, not for --relays");
  if (!process.env.BENCH_SKIP_INSTALL) await execOk(["bash", join(HERE, "install.sh")]);
  await buildBot();
  await fleetBench({
    relays: Number(process.argv[FLEET_AT + 1] ?? 50),
    instances: Number(process.env.BENCH_FLEET_INSTANCES ?? 5),
    extraSshd: Number(process.env.BENCH_FLEET_EXTRA_SSHD ?? 2),
    messages: Number(process.env.BENCH_FLEET_MESSAGES ?? 2000),
    reps: REPS,
    root: process.env.BENCH_LAB_ROOT ?? `/var/lib/mailq-lab/bench-fleet-${process.pid}`,
    cli: CLI,
    results: process.env.BENCH_RESULTS ?? join(HERE, "results-fleet.md"),
    ...(process.env.BENCH_FLEET_MAX_CONNECTIONS
      ? { maxConnections: Number(process.env.BENCH_FLEET_MAX_CONNECTIONS) }
      : {}),
  });
}

(FLEET_AT === -1 ? main() : fleetMain()).catch((e) => {
  log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
});
