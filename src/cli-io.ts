/** What the CLI and serve get from the process: arguments, environment, output, clock. */
export interface CliIo {
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** stderr is a terminal: then a progress line shows the listing as it streams. */
  stderrIsTty?: boolean;
  nowMs: () => number;
}
