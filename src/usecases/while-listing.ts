/** Calls `tick` every `everyMs` until `until` settles (not after): a partial card's redraws. */
export async function whileListing(
  until: Promise<unknown>,
  everyMs: number,
  tick: () => Promise<void>,
): Promise<void> {
  let settled = false;
  const over = until.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([over, new Promise((r) => (timer = setTimeout(r, everyMs)))]);
    clearTimeout(timer);
    if (settled) return;
    await tick();
  }
}
