/**
 * `npm run test:soak -- N [vitest args…]`: runs the integration suite N times, each from a clean
 * lab (the suite's global setup starts a fresh one and its teardown fails the run if anything of
 * it is left running), and prints each test's flake rate. Exits 1 if any test failed in any run.
 * Other labs on the machine (a developer's, another run's) are left alone.
 * A flaky test shows up here before it blocks a landing; a retry would only hide it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

interface AssertionResult {
  fullName: string;
  status: string;
  duration?: number;
}
interface JsonReport {
  numTotalTests: number;
  numFailedTests: number;
  testResults: { name: string; assertionResults: AssertionResult[] }[];
}

const REPO = fileURLToPath(new URL("..", import.meta.url));

function parseRuns(argv: string[]): { runs: number; rest: string[] } {
  const [first, ...rest] = argv;
  const runs = Number(first ?? "5");
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
    console.error("usage: npm run test:soak -- N [vitest args…]   (N: 1 to 100 runs, default 5)");
    process.exit(2);
  }
  return { runs, rest: first === undefined ? [] : rest };
}

function runOnce(i: number, rest: string[], dir: string): { report: JsonReport | null; ms: number } {
  const out = join(dir, `run-${i}.json`);
  const t0 = Date.now();
  spawnSync(
    "npx",
    [
      "vitest",
      "run",
      "--project",
      "integration",
      "--reporter=dot",
      "--reporter=json",
      `--outputFile.json=${out}`,
      ...rest,
    ],
    { cwd: REPO, stdio: "inherit" },
  );
  const ms = Date.now() - t0;
  try {
    return { report: JSON.parse(readFileSync(out, "utf8")) as JsonReport, ms };
  } catch {
    return { report: null, ms };
  }
}

function main(): void {
  const { runs, rest } = parseRuns(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), "mailq-soak-"));
  const tally = new Map<string, { runs: number; failed: number }>();
  const walls: number[] = [];
  let brokenRuns = 0;
  try {
    for (let i = 1; i <= runs; i++) {
      console.log(`\n== soak run ${i}/${runs}`);
      const { report, ms } = runOnce(i, rest, dir);
      walls.push(ms);
      if (!report) {
        brokenRuns++;
        console.log(`run ${i}: no report (the suite did not start or crashed)`);
        continue;
      }
      for (const file of report.testResults)
        for (const t of file.assertionResults) {
          if (t.status === "skipped" || t.status === "pending" || t.status === "todo") continue;
          const key = `${file.name.replace(REPO, "")} › ${t.fullName}`;
          const e = tally.get(key) ?? { runs: 0, failed: 0 };
          e.runs++;
          if (t.status !== "passed") e.failed++;
          tally.set(key, e);
        }
      console.log(`run ${i}: ${report.numTotalTests} tests, ${report.numFailedTests} failed, ${ms} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const flaky = [...tally].filter(([, e]) => e.failed > 0).sort((a, b) => b[1].failed - a[1].failed);
  console.log(
    `\n== soak: ${runs} runs, ${tally.size} tests, wall ${walls.map((w) => `${Math.round(w / 1000)}s`).join(" ")}`,
  );
  if (flaky.length === 0) console.log("flake rate 0% for every test");
  for (const [name, e] of flaky)
    console.log(`${((100 * e.failed) / e.runs).toFixed(0).padStart(3)}% (${e.failed}/${e.runs})  ${name}`);
  const failures = flaky.reduce((a, [, e]) => a + e.failed, 0);
  const ran = [...tally.values()].reduce((a, e) => a + e.runs, 0);
  console.log(`${ran - failures} passed, ${failures} failed`);
  process.exit(flaky.length > 0 || brokenRuns > 0 ? 1 : 0);
}

main();
