/** Slack allows about one message a second per channel; posts wait their turn. */
export class Pacer {
  private readonly last = new Map<string, number>();
  private chain: Promise<unknown> = Promise.resolve();
  constructor(
    private readonly nowMs: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}
  run<T>(channel: string, fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(async () => {
      const wait = (this.last.get(channel) ?? Number.NEGATIVE_INFINITY) + 1000 - this.nowMs();
      if (wait > 0) await this.sleep(wait);
      try {
        return await fn();
      } finally {
        this.last.set(channel, this.nowMs());
      }
    });
    this.chain = next.catch(() => {});
    return next;
  }
}
