import { describe, expect, it } from "vitest";
import type { Sleep } from "../../src/util/abortable-sleep.js";
import { inflight } from "../../src/util/inflight.js";

/** A promise settled by the test, and a drain deadline the test fires. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
}

function heldClock() {
  const fire = deferred();
  const asked: number[] = [];
  let aborted = false;
  const sleep: Sleep = (ms, signal) => {
    asked.push(ms);
    signal.addEventListener("abort", () => {
      aborted = true;
    });
    return fire.promise;
  };
  return { sleep, asked, fire: () => fire.resolve(), aborted: () => aborted };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("inflight", () => {
  it("drains at once when nothing runs", async () => {
    const clock = heldClock();
    expect(await inflight(clock.sleep).drain(60_000)).toBe(0);
    expect(clock.aborted()).toBe(true);
  });

  it("waits for tracked work, failed or not, and what starts while it waits", async () => {
    const clock = heldClock();
    const work = inflight(clock.sleep);
    const a = deferred<number>();
    const b = deferred();
    expect(await work.track(Promise.resolve(7))).toBe(7);
    await settle();
    expect(work.size).toBe(0);
    const tracked = work.track(a.promise);
    void work.track(b.promise).catch(() => {});
    expect(work.size).toBe(2);
    let left: number | undefined;
    const drained = work.drain(60_000).then((n) => {
      left = n;
    });
    a.resolve(1);
    await settle();
    expect(left).toBeUndefined();
    const c = deferred();
    work.track(c.promise);
    b.reject(new Error("a command that failed still counts as finished"));
    await settle();
    expect(left).toBeUndefined();
    expect(work.size).toBe(1);
    c.resolve();
    await drained;
    expect(left).toBe(0);
    expect(await tracked).toBe(1);
    expect(clock.asked).toEqual([60_000]);
    expect(clock.aborted()).toBe(true);
  });

  it("gives up when its deadline passes, and says how many are still running", async () => {
    const clock = heldClock();
    const work = inflight(clock.sleep);
    work.track(new Promise(() => {}));
    work.track(new Promise(() => {}));
    let left: number | undefined;
    const drained = work.drain(1500).then((n) => {
      left = n;
    });
    await settle();
    expect(left).toBeUndefined();
    clock.fire();
    await drained;
    expect(left).toBe(2);
    expect(clock.asked).toEqual([1500]);
  });
});
