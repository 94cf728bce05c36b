export interface RunOptions {
  /** Fed to the command's stdin, then closed. Queue IDs travel this way, never as arguments. */
  stdin?: string | Buffer;
  timeoutMs: number;
  /** When given, stdout is streamed here and not kept. */
  onStdout?: (chunk: Buffer) => void;
  /** Cap on kept stdout/stderr text (bytes); the rest is dropped. */
  maxOutputBytes?: number;
  /** The probe this command is (as in a snapshot's probeErrors): metrics label it so. */
  probe?: string;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a fixed argv on one relay. Implementations only move bytes. */
export interface CommandRunner {
  readonly relay: string;
  run(argv: readonly string[], opts: RunOptions): Promise<RunResult>;
  close(): Promise<void>;
  /** Told once when the runner can run nothing more (its connection dropped); absent: it never drops. */
  onClosed?(listener: () => void): void;
}

/** The name a command without a probe name is known by: its program, past sudo and env. */
export function programName(argv: readonly string[]): string {
  const a = argv[0] === "sudo" ? argv.slice(argv[1] === "-n" ? 2 : 1) : argv;
  return a[0]?.split("/").at(-1) || "unknown";
}

/**
 * Postfix's tools live in sbin, which a non-root login's PATH lacks. Commands run with this
 * fixed PATH (sudo uses its own secure_path).
 */
export const COMMAND_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The argv as it is executed: `env PATH=… cmd …`, except for sudo. */
export function withCommandPath(argv: readonly string[]): readonly string[] {
  return argv[0] === "sudo" ? argv : ["env", `PATH=${COMMAND_PATH}`, ...argv];
}

const SAFE_ARG = /^[A-Za-z0-9_./=:@,+%-]+$/;

/** POSIX-quotes an argv for the remote shell that sshd always puts in between. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (a !== "" && SAFE_ARG.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ");
}

/** Keeps at most `max` bytes of text output. */
export class CappedText {
  private parts: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    if (this.size >= this.max) {
      this.truncated = true;
      return;
    }
    const take = chunk.subarray(0, this.max - this.size);
    this.parts.push(take);
    this.size += take.length;
    if (take.length < chunk.length) this.truncated = true;
  }
  toString(): string {
    return Buffer.concat(this.parts).toString("utf8");
  }
}
