/**
 * Captures the raw output (exact bytes) of a real Postfix instance into test/fixtures/, for the
 * parser tests. Starts its own lab at /var/lib/mailq-lab/capture and stops it afterwards.
 *
 *   npx tsx test/lab/capture-fixtures.ts        (as root; see test/fixtures/README.md)
 *
 * Each fixture directory gets a capture.json telling, per file, the command, its exit code and
 * which bytes came from stdout and which from stderr.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { POSTCONF_KEYS } from "../../src/relay/probes.js";
import {
  fillStandardScenario,
  type LabRelay,
  labEnv,
  postqueueJson,
  startLab,
  startRelay,
  waitForQueueSettled,
} from "./lab.js";
import { isAlive, readPid, runRaw, waitFor } from "./sys.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures");
const ROOT = "/var/lib/mailq-lab/capture";

// The fixture is the bot's own postconf probe, so the parameters are the probe's.
const POSTCONF_PARAMS = POSTCONF_KEYS;

interface ManifestEntry {
  command: string[];
  exitCode: number | null;
  /** "stdout", "stderr", or "stdout+stderr" (stdout bytes first, then stderr bytes) */
  content: string;
  stdoutBytes: number;
  stderrBytes: number;
}

class FixtureDir {
  readonly manifest: Record<string, ManifestEntry> = {};
  constructor(
    readonly dir: string,
    readonly relay: LabRelay,
  ) {}

  async init(): Promise<this> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
    return this;
  }

  /** Runs argv against the relay (MAIL_CONFIG set) and stores stdout, or stdout+stderr. */
  async command(file: string, argv: string[], streams: "stdout" | "stdout+stderr" = "stdout") {
    const r = await runRaw(argv, { env: labEnv(this.relay) });
    if (streams === "stdout" && r.code !== 0)
      throw new Error(`${argv.join(" ")} exited ${r.code}: ${r.stderr.toString()}`);
    const bytes = streams === "stdout" ? r.stdout : Buffer.concat([r.stdout, r.stderr]);
    await writeFile(join(this.dir, file), bytes);
    this.manifest[file] = {
      command: argv,
      exitCode: r.code,
      content: streams,
      stdoutBytes: r.stdout.length,
      stderrBytes: r.stderr.length,
    };
    return r;
  }

  async copy(file: string, from: string) {
    const bytes = await readFile(from); // not copyFile: /proc files claim a size of 0
    await writeFile(join(this.dir, file), bytes);
    this.manifest[file] = {
      command: ["cat", from],
      exitCode: 0,
      content: "stdout",
      stdoutBytes: bytes.length,
      stderrBytes: 0,
    };
  }

  /**
   * `postfix status` prints nothing unless stderr is a terminal (postlog only echoes to a tty;
   * the message always goes to the maillog). Captures it under a pty via script(1), and finds
   * out which stream it uses by running it again with stderr sent to /dev/null.
   */
  async underTty(file: string, shellCommand: string) {
    const tty = (cmd: string) => runRaw(["script", "-qec", cmd, "/dev/null"], { env: labEnv(this.relay) });
    const r = await tty(shellCommand);
    const noStderr = await tty(`${shellCommand} 2>/dev/null`);
    await writeFile(join(this.dir, file), r.stdout);
    this.manifest[file] = {
      command: ["script", "-qec", shellCommand, "/dev/null"],
      exitCode: r.code,
      content: `pty (stdout and stderr merged, CRLF line ends); the text is on ${
        noStderr.stdout.length === 0 && r.stdout.length > 0 ? "stderr" : "stdout"
      }`,
      stdoutBytes: r.stdout.length,
      stderrBytes: 0,
    };
  }

  async writeManifest() {
    const sorted = Object.fromEntries(Object.entries(this.manifest).sort(([a], [b]) => a.localeCompare(b)));
    await writeFile(
      join(this.dir, "capture.json"),
      `${JSON.stringify({ relay: this.relay.name, configDir: this.relay.configDir, files: sorted }, null, 2)}\n`,
    );
  }
}

async function deferredId(relay: LabRelay, recipients: number): Promise<string> {
  const e = (await postqueueJson(relay)).find(
    (x) => x.queue_name === "deferred" && x.recipients.length === recipients,
  );
  if (!e) throw new Error(`no deferred message with ${recipients} recipients on ${relay.name}`);
  return e.queue_id;
}

async function main(): Promise<void> {
  const lab = await startLab({ root: ROOT, relays: ["relay-a"] });
  try {
    const [a] = lab.relays;
    if (!a) throw new Error("no relay-a");
    await fillStandardScenario(a);

    const fa = await new FixtureDir(join(FIXTURES, "relay-a"), a).init();
    await fa.command("postqueue-j.jsonl", ["postqueue", "-j"]);
    await fa.command("postqueue-p.txt", ["postqueue", "-p"]);
    await fa.command("postconf.txt", ["postconf", ...POSTCONF_PARAMS]);
    await fa.command("df-P.txt", ["df", "-P", "-k", a.queueDirectory]);
    await fa.command("df-i.txt", ["df", "-P", "-i", a.queueDirectory]);
    await fa.command("postfix-status.txt", ["postfix", "status"], "stdout+stderr");
    await fa.underTty("postfix-status-tty.txt", "postfix status");
    await fa.command("ps.txt", ["ps", "-eo", "pid,ppid,etimes,comm,args"]);
    await fa.command("vmstat.txt", ["vmstat", "1", "2"]);
    await fa.copy("loadavg.txt", "/proc/loadavg");
    await fa.copy("pressure-io.txt", "/proc/pressure/io");
    // The multi-recipient message: three recipients, three delay reasons.
    await fa.command("postcat-q.txt", ["postcat", "-q", await deferredId(a, 3)]);

    const long = await startRelay(lab, "relay-long-ids", { longQueueIds: true });
    await fillStandardScenario(long);
    await waitForQueueSettled(long);
    const fl = await new FixtureDir(join(FIXTURES, "relay-long-ids"), long).init();
    await fl.command("postqueue-j.jsonl", ["postqueue", "-j"]);
    await fl.command("postqueue-p.txt", ["postqueue", "-p"]);
    await fl.command("postconf.txt", ["postconf", ...POSTCONF_PARAMS]);
    await fl.command("postcat-q.txt", ["postcat", "-q", await deferredId(long, 3)]);
    await fl.copy("maillog.txt", long.maillogPath);
    await fl.writeManifest();

    // Stop relay-a for the "mail system is down" outputs.
    const master = await readPid(join(a.queueDirectory, "pid", "master.pid"));
    await fa.command("postfix-stop.txt", ["postfix", "stop"], "stdout+stderr");
    if (master) await waitFor("relay-a master to exit", async () => !isAlive(master), 15_000);
    await fa.command("postfix-status-stopped.txt", ["postfix", "status"], "stdout+stderr");
    await fa.underTty("postfix-status-stopped-tty.txt", "postfix status");
    await fa.command("postqueue-j-stopped.txt", ["postqueue", "-j"], "stdout+stderr");
    await fa.command("postqueue-p-stopped.txt", ["postqueue", "-p"], "stdout+stderr");
    await fa.copy("maillog.txt", a.maillogPath); // last: includes the status and stop lines
    await fa.writeManifest();
    console.error(`fixtures written to ${FIXTURES}/{relay-a,relay-long-ids}`);
  } finally {
    await lab.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
