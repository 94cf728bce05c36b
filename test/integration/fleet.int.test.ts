import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { type RunningBot, SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { labRelayEntry } from "../helpers/lab-relay.js";
import { type FakeSlack, postSigned, slashCommandBody, startFakeSlack } from "../helpers/slack.js";
import { completeStatusCard } from "../helpers/status-card.js";
import { type LabRelay, postqueueJson, startRelay } from "../lab/lab.js";
import { closedPort } from "../lab/triage-scenarios.js";

/**
 * Fifty relays in one /mailq status, as a fleet's on-call sees them: 20 entries reach relay-a's
 * Postfix and 20 relay-b's (several configured relays may share one instance; the lab's sshd
 * takes the connections), 8 reach an empty relay of this file's own, 2 reach nothing. Nothing
 * here changes a queue: the counts are compared with postqueue -j read in the same test.
 */
const lab = inject("lab");
const relayA = lab.relays.find((r) => r.name === "relay-a") as LabRelay;
const relayB = lab.relays.find((r) => r.name === "relay-b") as LabRelay;

let slack: FakeSlack;
let bot: RunningBot;
let config: ReturnType<typeof parseConfig>;
let empty: LabRelay;

const names = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(2, "0")}`);

beforeAll(async () => {
  empty = await startRelay(lab, "fleet-empty");
  const closed = await closedPort();
  config = parseConfig(
    {
      probes: { timeout: "30s", listingTimeout: "30s" },
      relays: [
        ...names("edge-a", 20).map((name) => labRelayEntry(relayA, { name })),
        ...names("edge-b", 20).map((name) => labRelayEntry(relayB, { name })),
        ...names("quiet", 8).map((name) => labRelayEntry(empty, { name })),
        ...names("gone", 2).map((name) => labRelayEntry(relayA, { name, port: closed })),
      ],
    },
    "test",
    "/tmp",
  );
  slack = await startFakeSlack();
  bot = await startBot({ config, apiUrl: slack.apiUrl });
}, 120_000);

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
});

describe("/mailq status for a fleet of 50 lab relays", () => {
  it("leads with the fleet's totals, lists relays worst first, folds the healthy ones into one line", async () => {
    const [a, b] = await Promise.all([postqueueJson(relayA), postqueueJson(relayB)]);
    const deferred = (e: { queue_name: string }[]) => e.filter((x) => x.queue_name === "deferred").length;
    const r = await postSigned(
      bot.url,
      slashCommandBody({ text: "status", response_url: slack.responseUrl("fleet"), channel_id: "CFLEET" }),
      { secret: SIGNING_SECRET },
    );
    expect(r.status).toBe(200);
    const { card } = await completeStatusCard(slack, "CFLEET", config);

    const blocks = card.body.blocks as { type: string; text?: { text?: string } }[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    const sections = blocks.map((x) => String(x.text?.text ?? ""));
    for (const t of sections) expect(t.length).toBeLessThanOrEqual(3000);

    // 1. The fleet first: how many relays in each state and the totals over the 48 that answered.
    // A relay whose listing did not finish within probes.listingTimeout (a loaded machine) is
    // shown partial, never healthy, and the totals then say they are lower bounds.
    const head =
      /^\*Fleet of 50 relays: 🔴 2 not answering · 🟠 (\d+) with mail waiting or trouble(?: · 🟢 (\d+) healthy)?\*/.exec(
        sections[0] ?? "",
      );
    expect(head, sections[0]).not.toBeNull();
    const [attention, healthyCount] = [Number(head?.[1]), Number(head?.[2] ?? 0)];
    expect(attention + healthyCount).toBe(48);
    const partial = sections[0]?.includes("⏳ some answers are partial") ?? false;
    if (!partial) expect(healthyCount).toBe(8);
    const total = 20 * deferred(a) + 20 * deferred(b);
    const shownTotal = Number(/\n([\d,]+) deferred · /.exec(sections[0] ?? "")?.[1]?.replaceAll(",", ""));
    if (partial) expect(shownTotal).toBeLessThanOrEqual(total);
    else expect(shownTotal).toBe(total);
    const messages = 20 * a.length + 20 * b.length;
    if (!partial) expect(sections[0]).toContain(`${messages.toLocaleString("en-US")} messages`);

    // 2. Worst first: the two not answering, then relay-a's copies (more deferred) before relay-b's.
    const order = sections
      .map((t) => /^(?:🔴|🟠) \*([a-z]+-\d\d)[:*]/.exec(t)?.[1])
      .filter((x): x is string => x !== undefined);
    expect(order.slice(0, 2).sort()).toEqual(["gone-01", "gone-02"]);
    const firstB = order.findIndex((x) => x.startsWith("edge-b"));
    const lastA = order.map((x) => x.startsWith("edge-a")).lastIndexOf(true);
    if (firstB >= 0) expect(lastA).toBeLessThan(firstB);
    // Every relay is named somewhere on the card, in full or in the overflow lines.
    const all = sections.join("\n");
    for (const n of config.relays.map((x) => x.name)) expect(all).toContain(n);

    // 3. The healthy ones: one line at the end, never a section each.
    const healthy = sections.filter((t) => t.startsWith("🟢"));
    if (healthyCount === 0) expect(healthy).toHaveLength(0);
    else {
      expect(healthy).toHaveLength(1);
      expect(healthy[0]).toMatch(
        new RegExp(`^🟢 \\*${healthyCount} healthy relays?\\* \\(nothing waiting\\): `),
      );
      expect(sections.at(-1)).toBe(healthy[0]);
    }
    // The quiet relays are healthy unless some answers were partial, which the card then says.
    if (healthyCount < 8) expect(partial).toBe(true);
    for (const n of names("quiet", 8).filter((x) => healthy[0]?.includes(x) !== true))
      expect(all).toContain(n);
  }, 240_000);
});
