import { describe, expect, it } from "vitest";
import { withLabLock } from "./lab.js";

describe("the lock labs share", () => {
  // A lab stops its relays at once, each taking the lock: a waiter must never pull the lock from
  // under a holder that has just taken it (that failed a teardown with ENOENT on dns.lock/pid).
  it("two hundred holders at once in one process: every one runs, one at a time", async () => {
    let inside = 0;
    let most = 0;
    let ran = 0;
    await Promise.all(
      Array.from({ length: 200 }, () =>
        withLabLock(async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setImmediate(r));
          inside--;
          ran++;
        }),
      ),
    );
    expect(ran).toBe(200);
    expect(most).toBe(1);
  });
});
