/**
 * `npm run bench -- --relays 50`: many relays at once. A few Postfix instances (BENCH_FLEET_INSTANCES,
 * default 5), each behind several sshd ports (its lab sshd plus BENCH_FLEET_EXTRA_SSHD more, default 2,
 * same host key), and N relay entries spread over those ports, each its own SSH connection. Measures
 * `status --json --wait-full` for the whole fleet against each instance's relay alone, with the
 * pool's default bound (probes.maxConnections 16), and writes bench/results-fleet.md.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RelaySnapshot } from "../src/analysis/snapshot.js";
import { Slots } from "../src/relay/slots.js";
import { type Lab, type LabRelay, labPort, startLab } from "../test/lab/lab.js";
import { holdIds, sendRange, tuneForFill, waitSettled } from "./fill.js";
import { exec, execOk, fmt, loadavg1, log, type Measured, machine, sshArgv, stats, timed } from "./lib.js";

interface Entry {
  name: string;
  relay: LabRelay;
  port: number;
}

export interface FleetOptions {
  relays: number;
  instances: number;
  extraSshd: number;
  messages: number;
  reps: number;
  root: string;
  cli: string;
  results: string;
  /** probes.maxConnections for the fleet's configuration; undefined: the default (16). */
  maxConnections?: number;
}

/** Another sshd for the same instance: the lab's config with its own port and pid file. */
async function extraSshd(lab: Lab, relay: LabRelay, k: number): Promise<number> {
  const dir = join(lab.root, relay.name, "ssh");
  const port = await labPort(lab);
  const base = await readFile(join(dir, "sshd_config"), "utf8");
  const cfg = join(dir, `sshd_config.extra${k}`);
  await writeFile(
    cfg,
    base
      .replace(/^ListenAddress .*$/m, `ListenAddress 127.0.0.1:${port}`)
      .replace(/^PidFile .*$/m, `PidFile ${join(dir, `sshd.extra${k}.pid`)}`),
  );
  await execOk(["/usr/sbin/sshd", "-f", cfg, "-E", join(dir, `sshd.extra${k}.log`)]);
  return port;
}

async function stopExtraSshd(lab: Lab, relay: LabRelay, k: number): Promise<void> {
  const pid = Number(
    (await readFile(join(lab.root, relay.name, "ssh", `sshd.extra${k}.pid`), "utf8").catch(() => "")).trim(),
  );
  if (pid > 0) process.kill(pid, "SIGTERM");
}

function yaml(entries: Entry[], maxConnections: number | undefined): string {
  return [
    ...(maxConnections === undefined ? [] : ["probes:", `  maxConnections: ${maxConnections}`]),
    "relays:",
    ...entries.flatMap((e) => [
      `  - name: ${e.name}`,
      `    host: ${e.relay.host}`,
      `    port: ${e.port}`,
      `    username: ${e.relay.gateUsername}`,
      `    privateKeyPath: ${e.relay.privateKeyPath}`,
      `    hostKeyFingerprint: "${e.relay.hostKeyFingerprint}"`,
      "    sudo: true",
    ]),
    "",
  ].join("\n");
}

/** Every sshd port's host key: the instance's line from the lab's known_hosts, once per port. */
async function knownHostsFor(lab: Lab, ports: { relay: LabRelay; port: number }[]): Promise<string> {
  const lines = (await readFile(lab.knownHostsPath, "utf8")).split("\n");
  const out = ports.map(({ relay, port }) => {
    const line = lines.find((l) => l.startsWith(`[${relay.host}]:${relay.port} `));
    if (!line) throw new Error(`no host key for ${relay.name} in ${lab.knownHostsPath}`);
    return line.replace(/^\S+/, `[${relay.host}]:${port}`);
  });
  const file = join(lab.root, "fleet_known_hosts");
  await writeFile(file, `${out.join("\n")}\n`);
  return file;
}

/**
 * The floor: what the machine itself does when every listing crosses the wire, with no bot.
 * OpenSSH to each entry as the gate user, `postqueue -j`, the client's stdout to /dev/null;
 * at most `bound` at once, as the bot's pool allows. Wall seconds.
 */
async function listingsAtOnce(entries: Entry[], knownHosts: string, bound: number): Promise<number> {
  const started = performance.now();
  const slots = new Slots(bound);
  await Promise.all(
    entries.map(async (e) => {
      const free = await slots.take();
      try {
        const r = await exec(
          sshArgv({ ...e.relay, port: e.port }, knownHosts, "postqueue -j", e.relay.gateUsername),
          { discardStdout: true },
        );
        if (r.code !== 0) throw new Error(`floor listing at ${e.name} exited ${r.code}: ${r.stderr.trim()}`);
      } finally {
        free();
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

export async function fleetBench(o: FleetOptions): Promise<void> {
  const names = Array.from({ length: o.instances }, (_, i) => `fleet-${i}`);
  log(`starting a lab of ${o.instances} Postfix instances at ${o.root}`);
  const lab = await startLab({ root: o.root, relays: names });
  const extras: [LabRelay, number][] = [];
  try {
    const ports: { relay: LabRelay; port: number }[] = [];
    for (const relay of lab.relays) {
      await tuneForFill(relay);
      ports.push({ relay, port: relay.port });
      for (let k = 0; k < o.extraSshd; k++) {
        ports.push({ relay, port: await extraSshd(lab, relay, k) });
        extras.push([relay, k]);
      }
    }
    for (const relay of lab.relays) {
      const sent = await sendRange(relay, 0, o.messages);
      await waitSettled(relay, o.messages);
      await holdIds(relay, sent.heldIds);
      log(`${relay.name}: ${sent.sent} messages in ${sent.seconds.toFixed(1)} s`);
    }
    const entries: Entry[] = Array.from({ length: o.relays }, (_, i) => {
      const p = ports[i % ports.length] as { relay: LabRelay; port: number };
      return { name: `r-${String(i).padStart(2, "0")}`, relay: p.relay, port: p.port };
    });
    const cfg = join(o.root, "mailq-fleet.yaml");
    await writeFile(cfg, yaml(entries, o.maxConnections));
    const status = (relay?: string) =>
      timed(
        [
          "node",
          o.cli,
          "status",
          "--json",
          "--wait-full",
          "--config",
          cfg,
          ...(relay ? ["--relay", relay] : []),
        ],
        {
          keepStdout: true,
        },
      );
    // One entry per instance, alone: the slowest of them is what the fleet is compared with.
    const alone = lab.relays.map((relay) => entries.find((e) => e.relay === relay)?.name ?? "");
    const single = new Map<string, Measured[]>(alone.map((n) => [n, []]));
    const fleet: Measured[] = [];
    const knownHosts = await knownHostsFor(lab, ports);
    const bound = o.maxConnections ?? 16;
    const floorAlone = new Map<string, number[]>(alone.map((n) => [n, []]));
    const floorFleet: number[] = [];
    log("warm-up (not counted)");
    await status(alone[0]);
    await status();
    for (let rep = 1; rep <= o.reps; rep++) {
      for (const name of alone) {
        const m = await status(name);
        single.get(name)?.push({ ...m, stdout: "" });
        log(`rep ${rep} ${name} alone: ${m.wall.toFixed(2)} s, ${m.rssMb.toFixed(0)} MB (load ${m.load1})`);
      }
      const m = await status();
      const snaps = (JSON.parse(m.stdout || "{}") as { relays?: RelaySnapshot[] }).relays ?? [];
      const whole = snaps.filter((s) => s.ok && s.listing.complete).length;
      if (snaps.length !== o.relays || whole !== o.relays)
        throw new Error(`fleet status: ${whole} of ${o.relays} relays answered whole`);
      fleet.push({ ...m, stdout: "" });
      log(
        `rep ${rep} fleet of ${o.relays}: ${m.wall.toFixed(2)} s, ${m.rssMb.toFixed(0)} MB (load ${m.load1})`,
      );
      for (const name of alone) {
        const e = entries.find((x) => x.name === name);
        if (e) floorAlone.get(name)?.push(await listingsAtOnce([e], knownHosts, 1));
      }
      const f = await listingsAtOnce(entries, knownHosts, bound);
      floorFleet.push(f);
      log(`rep ${rep} floor: ${o.relays} listings over SSH, ${bound} at once: ${f.toFixed(2)} s`);
    }
    const med = (ms: Measured[], f: (m: Measured) => number) => stats(ms.map(f)).median;
    const slowest = Math.max(...[...single.values()].map((ms) => med(ms, (m) => m.wall)));
    const fleetWall = med(fleet, (m) => m.wall);
    const fleetRss = stats(fleet.map((m) => m.rssMb)).max;
    const floorSlowest = Math.max(...[...floorAlone.values()].map((xs) => stats(xs).median));
    const floorAll = stats(floorFleet).median;
    const floorRow = (what: string, xs: number[]) => {
      const w = stats(xs);
      return `| ${what} | ${w.n} | **${fmt(w.median)}** | ${fmt(w.min)}–${fmt(w.max)} | – | – | – |`;
    };
    const mc = await machine();
    const row = (what: string, ms: Measured[]) => {
      const w = stats(ms.map((m) => m.wall));
      const l = stats(ms.map((m) => m.load1));
      return `| ${what} | ${w.n} | **${fmt(w.median)}** | ${fmt(w.min)}–${fmt(w.max)} | ${fmt(med(ms, (m) => m.cpu))} | ${fmt(stats(ms.map((m) => m.rssMb)).max, 0)} | ${fmt(l.min)}–${fmt(l.max)} |`;
    };
    const out = [
      `# Fleet benchmark: ${o.relays} relays at once`,
      "",
      `Written by \`npm run bench -- --relays ${o.relays}\` (bench/fleet.ts) on ${new Date().toISOString()}.`,
      "",
      `- Machine: ${mc.cpu}, ${mc.cores} cores, ${mc.memoryGb} GB; ${mc.os}; Node ${mc.node}; Postfix ${mc.postfix}. The relays run on the same 2 cores as the bot.`,
      `- ${o.instances} Postfix instances with ${o.messages} deferred/held messages each (SMTP, the bench mix), each behind ${1 + o.extraSshd} sshd ports (same host key); ${o.relays} relay entries spread round-robin over those ${ports.length} ports, as deployed (gate user, forced command, sudo), each its own SSH connection.`,
      `- The bot: \`node cli.js status --json --wait-full\` with probes.maxConnections = ${o.maxConnections ?? "16 (the default)"}: at most that many relays are probed at once.`,
      "",
      "| measurement | runs | wall median (s) | wall min–max (s) | CPU median (s) | peak RSS max (MB) | load avg (1 min) before |",
      "| --- | --- | --- | --- | --- | --- | --- |",
      ...[...single].map(([name, ms]) => row(`one relay alone (${name})`, ms)),
      row(`the fleet: ${o.relays} relays`, fleet),
      ...[...floorAlone].map(([name, xs]) =>
        floorRow(`floor: ${name}'s listing alone (OpenSSH, gate user, carried)`, xs),
      ),
      floorRow(`floor: all ${o.relays} listings, ${bound} at once (OpenSSH, no bot)`, floorFleet),
      "",
      "## Targets",
      "",
      "| target | measured | verdict |",
      "| --- | --- | --- |",
      `| ${o.relays} relays ≤ 1.5 × the slowest relay alone | ${fmt(fleetWall)} s / ${fmt(slowest)} s = **${fmt(fleetWall / slowest)}×** | ${fleetWall <= 1.5 * slowest ? "**PASS**" : "**FAIL**"} |`,
      `| peak RSS ≤ 200 MB for the fleet | ${fmt(fleetRss, 0)} MB | ${fleetRss <= 200 ? "**PASS**" : "**FAIL**"} |`,
      "",
      "What this machine allows, with no bot at all: the listings alone, carried over SSH (the floor rows above).",
      "",
      "| ratio | value |",
      "| --- | --- |",
      `| floor: all ${o.relays} listings at once ÷ the slowest listing alone | ${fmt(floorAll)} s / ${fmt(floorSlowest)} s = **${fmt(floorAll / floorSlowest)}×** |`,
      `| the bot's fleet ÷ the floor's fleet | ${fmt(fleetWall)} s / ${fmt(floorAll)} s = **${fmt(fleetWall / floorAll)}×** |`,
      "",
      `Load average when the report was written: ${await loadavg1()}.`,
      "",
    ];
    await writeFile(o.results, out.join("\n"));
    log(`wrote ${o.results}`);
  } finally {
    for (const [relay, k] of extras) await stopExtraSshd(lab, relay, k).catch(() => {});
    if (process.env.BENCH_KEEP_LAB)
      log(`leaving the lab running: npx tsx test/lab/cli.ts down --root ${o.root}`);
    else await lab.stop().catch((e) => log(`lab stop: ${String(e)}`));
  }
}
