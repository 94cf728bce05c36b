#!/usr/bin/env -S node --max-semi-space-size=4
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { RelaySnapshot } from "./analysis/snapshot.js";
import { adoptUnrecorded, pruneArchive, unrecordedFiles, verifyArchive } from "./archive/maintenance.js";
import { archiveJson, archiveListText } from "./cards/archive.js";
import { terminalProgress } from "./cards/listing-progress.js";
import { statusText } from "./cards/status-text.js";
import { triageText } from "./cards/triage.js";
import { parseCli } from "./cli-args.js";
import type { CliIo } from "./cli-io.js";
import { type Config, loadConfig } from "./config.js";
import { doctorText } from "./doctor/text.js";
import { effectiveEnv } from "./env-file.js";
import { describeError, isMailqError } from "./errors.js";
import { statusDocument } from "./json/status-document.js";
import { collectAll, collectOptions, RunnerPool, selectRelays } from "./relay/collect.js";
import { parseTarget, presentedFingerprint } from "./relay/fingerprint.js";
import { openStore } from "./store/open.js";
import { runStatus, type StatusAnswer } from "./usecases/status.js";
import { runTriage } from "./usecases/triage.js";
import { abortableSleep, type Sleep } from "./util/abortable-sleep.js";
import { fail } from "./util/check.js";
import { parseDuration } from "./util/duration.js";
import { watchInTerminal } from "./watch/terminal.js";

/** The runner pool the configuration asks for: SSH compression and the bound on connections. */
const poolFor = (config: Config, io: CliIo) =>
  new RunnerPool(io.env, config.probes.compression, { maxConnections: config.probes.maxConnections });

/** With no configuration file and no Postfix answering here, where to see the bot at work. */
export function demoHint(config: Config, snapshots: RelaySnapshot[]): string | null {
  const local = config.relays.length === 1 && config.relays[0]?.kind === "local";
  if (!local || snapshots.every((s) => s.ok)) return null;
  return "No mailq.yaml and no Postfix answering on this machine: `npm run demo` (as root) shows the bot on a stuck queue of a loopback relay lab.\n";
}

async function status(
  config: Config,
  o: { relay?: string; json: boolean; waitFull: boolean },
  io: CliIo,
): Promise<number> {
  const pool = poolFor(config, io);
  const line = io.stderrIsTty ? terminalProgress({ write: io.stderr, nowMs: io.nowMs }) : undefined;
  const store = await openStore(config, io.env);
  let code = 0;
  // 1: a relay did not answer. 3: an answer is incomplete (partial, cut short, Postfix down), and
  // scripts must not take it for the whole queue.
  const exitCode = (snaps: RelaySnapshot[]) =>
    !snaps.every((s) => s.ok) ? 1 : snaps.every((s) => s.complete) ? 0 : 3;
  const text = (a: StatusAnswer) => statusText(a.snapshots, io.nowMs(), 5, a.progress, a.warnings);
  try {
    await runStatus(
      { config, pool, store, nowMs: io.nowMs },
      {
        relay: o.relay,
        warnings: !o.json,
        waitFull: o.waitFull,
        ...(line ? { onListing: line.onListing } : {}),
      },
      o.json
        ? {
            // One document: the first answer (marked partial where it is), or the full one with --wait-full.
            first: async (a) => {
              line?.done();
              io.stdout(`${JSON.stringify(statusDocument(a.snapshots, a.progress), null, 2)}\n`);
              const hint = demoHint(config, a.snapshots);
              if (hint) io.stderr(hint);
              code = exitCode(a.snapshots);
            },
          }
        : {
            first: async (a, more) => {
              line?.done();
              io.stdout(text(a));
              code = exitCode(a.snapshots);
              if (more) {
                io.stdout("… the full queue listing is still running; the complete snapshot follows.\n\n");
                return;
              }
              const hint = demoHint(config, a.snapshots);
              if (hint) io.stdout(hint);
            },
            full: async (a) => {
              line?.done();
              io.stdout(text(a));
              code = exitCode(a.snapshots);
            },
          },
    );
    return code;
  } finally {
    line?.stop();
    await pool.closeAll();
    await store.close();
  }
}

/**
 * Prints progress every interval until interrupted, drained or out of time: the terminal's watch.
 * `sleep` is what passes between updates (the demo acts there instead of waiting).
 */
export async function watchCli(
  config: Config,
  o: { relay?: string; everyMs: number },
  io: CliIo,
  signal: AbortSignal,
  sleep: Sleep = abortableSleep,
): Promise<number> {
  const relays = selectRelays(config, o.relay);
  const pool = poolFor(config, io);
  const store = await openStore(config, io.env);
  try {
    await watchInTerminal({
      store,
      collect: () => collectAll(relays, pool, collectOptions(config, io.nowMs)),
      watch: config.watch,
      everyMs: o.everyMs,
      nowMs: io.nowMs,
      sleep,
      signal,
      write: io.stdout,
    });
    return 0;
  } finally {
    await pool.closeAll();
    await store.close();
  }
}

export async function main(given: CliIo): Promise<number> {
  let env: NodeJS.ProcessEnv;
  try {
    env = effectiveEnv(given.env, given.cwd).env;
  } catch (e) {
    given.stderr(`mailq-bot: ${describeError(e)}\n`);
    return 2;
  }
  const io = { ...given, env };
  const parsed = parseCli(io.argv);
  if (parsed.kind === "help") {
    io.stdout(`${parsed.text}\n`);
    return 0;
  }
  if (parsed.kind === "error") {
    io.stderr(`mailq-bot ${parsed.message}\n`);
    return 2;
  }
  const cmd = parsed.command;
  const v = parsed.values;
  if (cmd === "fingerprint") return fingerprint(parsed.positionals, io);
  if (cmd === "healthcheck") {
    const waitMs = v.wait === undefined ? 0 : parseDuration(v.wait as string);
    if (waitMs === undefined) {
      io.stderr("mailq-bot: --wait takes a duration such as 30s\n");
      return 2;
    }
    return healthcheck(io, waitMs);
  }
  if (cmd === "archive") return archiveCli(parsed.positionals, v, io);
  if (cmd === "doctor") return doctorCli(v.config as string | undefined, v.relay as string | undefined, io);
  try {
    const config = loadConfig({ file: v.config as string | undefined, env: io.env, cwd: io.cwd });
    if (cmd === "status")
      return await status(
        config,
        { relay: v.relay as string | undefined, json: v.json === true, waitFull: v["wait-full"] === true },
        io,
      );
    if (cmd === "serve") {
      // Slack, metrics and the schedulers load only here: a CLI status starts faster without them.
      const { serve } = await import("./serve.js");
      return await serve(config, io);
    }
    if (cmd === "triage") {
      const pool = poolFor(config, io);
      try {
        const reports = await runTriage({ config, pool, nowMs: io.nowMs }, v.relay as string | undefined);
        if (v.json === true) io.stdout(`${JSON.stringify({ schemaVersion: 1, relays: reports }, null, 2)}\n`);
        else io.stdout(triageText(reports));
        // 1 when a relay did not answer: its findings are unknown, not empty.
        return reports.every((t) => t.ok) ? 0 : 1;
      } finally {
        await pool.closeAll();
      }
    }
    if (cmd === "audit") {
      if (v.json !== true) {
        io.stderr("mailq-bot: audit exports JSON lines: mailq-bot audit --json\n");
        return 2;
      }
      const store = await openStore(config, io.env);
      try {
        for await (const e of store.audit.all()) io.stdout(`${JSON.stringify(e)}\n`);
      } finally {
        await store.close();
      }
      return 0;
    }
    if (cmd === "watch") {
      const everyMs = v.every === undefined ? config.watch.interval : parseDuration(v.every as string);
      if (everyMs === undefined || everyMs < 1000) {
        io.stderr("mailq-bot: --every takes a duration such as 30s, 5m or 15m\n");
        return 2;
      }
      const ac = new AbortController();
      process.once("SIGINT", () => ac.abort());
      return await watchCli(config, { relay: v.relay as string | undefined, everyMs }, io, ac.signal);
    }
    io.stderr(`mailq-bot: ${cmd} has no handler\n`);
    return 2;
  } catch (e) {
    io.stderr(`mailq-bot: ${describeError(e)}\n`);
    return isMailqError(e) &&
      (e.code === "CONFIG_INVALID" || e.code === "CONFIG_NOT_FOUND" || e.code === "RELAY_UNKNOWN")
      ? 2
      : 1;
  }
}

async function archiveCli(
  args: string[],
  v: { config?: unknown; relay?: unknown; ticket?: unknown; json?: unknown },
  io: CliIo,
): Promise<number> {
  const [sub, ...more] = args;
  if (!(sub === "list" || sub === "verify" || sub === "prune" || sub === "adopt") || more.length) {
    io.stderr(
      "mailq-bot: usage: mailq-bot archive list|verify|prune|adopt [--ticket REF] [--relay NAME] [--json]\n",
    );
    return 2;
  }
  const filter = {
    ...(typeof v.ticket === "string" ? { ticket: v.ticket } : {}),
    ...(typeof v.relay === "string" ? { relay: v.relay } : {}),
  };
  try {
    const config = loadConfig({ file: v.config as string | undefined, env: io.env, cwd: io.cwd });
    const store = await openStore(config, io.env);
    try {
      if (sub === "list") {
        const all = await store.archive.list({ ...filter, includePruned: true });
        if (v.json === true) for (const m of all) io.stdout(`${JSON.stringify(archiveJson(m))}\n`);
        else io.stdout(archiveListText(all));
        return 0;
      }
      if (sub === "verify") {
        const r = await verifyArchive(store, filter);
        for (const p of r.problems)
          io.stdout(
            `MISMATCH ${p.message.relay} ${p.message.ticket} ${p.message.queueId} ${p.message.path}: ${p.why}\n`,
          );
        io.stdout(
          `${r.checked} archived message(s) checked, ${r.checked - r.problems.length} intact, ${r.problems.length} not${r.problems.length ? ": these cannot be restored; restore the files from a backup or leave them" : ""}\n`,
        );
        const loose = await unrecordedFiles(store, config.archive.path);
        if (loose.length)
          io.stdout(
            `${loose.length} archived file(s) have no checksum in the store (archived before checksums were kept), so they cannot be restored yet: \`mailq-bot archive adopt\` records them\n`,
          );
        return r.problems.length ? 1 : 0;
      }
      if (sub === "adopt") {
        const a = await adoptUnrecorded(store, config.archive.path, io.nowMs());
        for (const x of a.skipped) io.stdout(`SKIPPED ${x.path}: ${x.why}\n`);
        io.stdout(`${a.adopted.length} archived file(s) recorded with a checksum taken now (audited)\n`);
        return a.skipped.length ? 1 : 0;
      }
      const n = await pruneArchive(store, config.archive.retention, io.nowMs());
      io.stdout(`${n} archived message(s) older than archive.retention pruned (audited)\n`);
      return 0;
    } finally {
      await store.close();
    }
  } catch (e) {
    io.stderr(`mailq-bot: ${describeError(e)}\n`);
    return isMailqError(e) && (e.code === "CONFIG_INVALID" || e.code === "CONFIG_NOT_FOUND") ? 2 : 1;
  }
}

async function doctorCli(file: string | undefined, relay: string | undefined, io: CliIo): Promise<number> {
  let config: Config;
  try {
    config = loadConfig({ file, env: io.env, cwd: io.cwd });
  } catch (e) {
    io.stdout(
      doctorText([
        fail(
          "config",
          "parse",
          describeError(e),
          "fix the configuration file (deploy/mailq.example.yaml is complete)",
        ),
      ]),
    );
    return 1;
  }
  try {
    // Slack's SDK loads only here and in serve.
    const { doctor } = await import("./doctor.js");
    const checks = await doctor(config, { ...(relay ? { relay } : {}), env: io.env, nowMs: io.nowMs });
    io.stdout(doctorText(checks));
    return checks.some((c) => c.status === "fail") ? 1 : 0;
  } catch (e) {
    io.stderr(`mailq-bot: ${describeError(e)}\n`);
    return 2;
  }
}

async function fingerprint(args: string[], io: CliIo): Promise<number> {
  const target = args.length === 1 ? parseTarget(args[0] as string) : undefined;
  if (!target) {
    io.stderr("mailq-bot: usage: mailq-bot fingerprint HOST[:PORT]   (IPv6: [ADDR]:PORT)\n");
    return 2;
  }
  try {
    // As long as the bot itself would wait for the relay (probes.timeout's default): a fingerprint
    // is taken before there is a configuration.
    const fp = await presentedFingerprint(target.host, target.port, 20_000);
    io.stdout(`hostKeyFingerprint: "${fp}"\n`);
    io.stderr(
      `Compare it out of band before pasting it into the configuration: on ${target.host}'s console, ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub must print ${fp}. Anyone between this machine and the relay could have answered instead.\n`,
    );
    return 0;
  } catch (e) {
    io.stderr(`mailq-bot: ${describeError(e)}\n`);
    return 1;
  }
}

/**
 * For the image's HEALTHCHECK and the runbook: /healthz on the port the running bot really serves
 * it; with --wait, asks again until it answers or the time is up (a service just started).
 */
async function healthcheck(io: CliIo, waitMs: number): Promise<number> {
  // Loaded here only: the metrics server's modules would weigh on every status run's memory.
  const { healthzUrl } = await import("./metrics/http.js");
  let url: string;
  try {
    url = healthzUrl(io.env);
  } catch (e) {
    // A configuration problem does not mend itself while we wait.
    io.stderr(`mailq-bot: healthcheck: ${describeError(e)}\n`);
    return 1;
  }
  const until = io.nowMs() + waitMs;
  for (;;) {
    let problem: string;
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (r.ok) return 0;
      problem = `${url} answered HTTP ${r.status}: ${(await r.text()).trim().slice(0, 300)}`;
    } catch (e) {
      problem = `healthcheck: ${describeError(e)} (${url})`;
    }
    if (io.nowMs() >= until) {
      io.stderr(`mailq-bot: ${problem}\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

// Run when executed (node, tsx, or the npm bin symlink), not when imported by tests.
const isEntry = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();
if (isEntry) {
  main({
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    stderrIsTty: process.stderr.isTTY === true,
    nowMs: Date.now,
  }).then((code) => {
    process.exitCode = code;
  });
}
