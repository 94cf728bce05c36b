import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childrenOf, procComm, waitFor, withFileLock } from "./sys.js";

describe("a lock file between processes", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mailq-lock-"));
  });
  const holders: ChildProcess[] = [];
  afterAll(async () => {
    for (const h of holders) h.kill("SIGKILL"); // a failed test may leave its holder
    await rm(dir, { recursive: true, force: true });
  });

  // A lab stops its relays at once, each taking the lock: a waiter must never run beside a holder
  // that has just taken it (the lock this replaced once did, and a teardown failed with ENOENT).
  // A file of its own, not the labs' lock: the other files' labs must not queue behind fifty holders.
  it("fifty holders at once in one process: every one runs, one at a time", async () => {
    const file = join(dir, "many.lock");
    let inside = 0;
    let most = 0;
    let ran = 0;
    await Promise.all(
      Array.from({ length: 50 }, () =>
        withFileLock(file, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setImmediate(r));
          inside--;
          ran++;
        }),
      ),
    );
    expect(ran).toBe(50);
    expect(most).toBe(1);
  });

  /** Another process that takes the lock and keeps it until it is killed. */
  async function holder(file: string) {
    const sys = pathToFileURL(fileURLToPath(new URL("./sys.ts", import.meta.url))).href;
    const code = `const { withFileLock } = await import(${JSON.stringify(sys)});
      await withFileLock(${JSON.stringify(file)}, async () => { console.log("held"); await new Promise(() => setInterval(() => {}, 60_000)); });`;
    // A timer keeps it running: a lock held by a descriptor does not keep Node's event loop alive.
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    holders.push(child);
    for await (const line of createInterface({ input: child.stdout })) if (line === "held") break;
    return child;
  }

  it("a waiter gives up after its timeout with an error naming the file, and runs nothing", async () => {
    const file = join(dir, "busy.lock");
    const other = await holder(file);
    try {
      let ran = false;
      await expect(
        withFileLock(
          file,
          async () => {
            ran = true;
          },
          500,
        ),
      ).rejects.toThrow(`timed out after 500 ms waiting for the lock ${file}`);
      expect(ran).toBe(false);
    } finally {
      other.kill("SIGKILL");
    }
  });

  // The pid-judged lock this replaced could be removed from under a live holder; a killed holder's
  // lock is freed by the kernel, with nobody judging it stale.
  it("a holder killed while holding it frees it at once", async () => {
    const file = join(dir, "killed.lock");
    const other = await holder(file);
    const gone = new Promise((r) => other.once("exit", r));
    other.kill("SIGKILL");
    await gone;
    expect(await withFileLock(file, async () => "mine")).toBe("mine");
  });

  /** The flock(1) processes this one runs: a waiter's, while it waits. */
  async function flocksWaiting(): Promise<number[]> {
    const kids = await childrenOf(process.pid);
    const comms = await Promise.all(kids.map(procComm));
    return kids.filter((_, i) => comms[i] === "flock");
  }

  // `npm run demo -- down` removes the lock file while holding it. A waiter opened the removed file;
  // running when it gets that file's lock would run it beside the holder of the new file.
  it("a waiter whose file was removed meanwhile waits for the new file's holder, then runs", async () => {
    const file = join(dir, "removed.lock");
    const first = await holder(file);
    const log: string[] = [];
    const waiter = withFileLock(file, async () => {
      log.push("waiter ran");
    });
    const [waiting] = await waitFor("the waiter's flock(1) to wait", async () => {
      const flocks = await flocksWaiting();
      return flocks.length > 0 && flocks;
    });
    await rm(file);
    const second = withFileLock(file, async () => {
      log.push("the new file's holder ran");
      first.kill("SIGKILL"); // the waiter gets the removed file's lock now
      await waitFor(
        "the waiter to run, or to wait again on the new file",
        async () => log.includes("waiter ran") || (await flocksWaiting()).some((p) => p !== waiting),
      );
      log.push("the new file's holder done");
    });
    await Promise.all([waiter, second]);
    expect(log).toEqual(["the new file's holder ran", "the new file's holder done", "waiter ran"]);
  });
});
