import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { REASON_CLASSES } from "../../src/analysis/reasons.js";
import { parseConfig } from "../../src/config.js";
import { type RunningBot, SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { labRelayEntry } from "../helpers/lab-relay.js";
import { type FakeSlack, postSigned, slashCommandBody, startFakeSlack } from "../helpers/slack.js";
import { completeStatusCard } from "../helpers/status-card.js";
import type { LabRelay } from "../lab/lab.js";
import { parseExposition, value } from "./exposition.js";

const lab = inject("lab");
const relayA = lab.relays.find((r) => r.name === "relay-a") as LabRelay;

let slack: FakeSlack;
let bot: RunningBot;
let config: ReturnType<typeof parseConfig>;

beforeAll(async () => {
  config = parseConfig(
    {
      probes: { timeout: "15s", listingTimeout: "30s" },
      relays: [labRelayEntry(relayA)],
    },
    "test",
    "/tmp",
  );
  slack = await startFakeSlack();
  bot = await startBot({ config, apiUrl: slack.apiUrl, meteredPool: true });
});
afterAll(async () => {
  await bot?.stop();
  await slack?.close();
});

describe("/metrics after /mailq status against the lab's relay-a", () => {
  it("shows the same queue depth and top cause as the card, and how long each probe took", async () => {
    const r = await postSigned(
      bot.url,
      slashCommandBody({
        text: "status relay-a",
        response_url: slack.responseUrl("met-1"),
        channel_id: "CMETA",
      }),
      { secret: SIGNING_SECRET },
    );
    expect(r.status).toBe(200);
    const { card } = await completeStatusCard(slack, "CMETA", config);
    // The card and the metrics come from one snapshot.
    const m = /^relay-a: (\d+) deferred · (\d+) on hold · top cause: .* \((\d+)\)$/m.exec(
      String(card.body.text),
    );
    expect(m, String(card.body.text)).not.toBeNull();
    const [deferred, hold, topCount] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
    expect(deferred).toBeGreaterThan(0);

    const res = await fetch(bot.url.replace(/\/slack\/events$/, "/metrics"));
    const text = await res.text();
    const e = parseExposition(text);
    expect(value(e, "mailq_relay_up", { relay: "relay-a" })).toBe(1);
    expect(value(e, "mailq_queue_messages", { relay: "relay-a", queue: "deferred" })).toBe(deferred);
    expect(value(e, "mailq_queue_messages", { relay: "relay-a", queue: "hold" })).toBe(hold);
    for (const q of ["maildrop", "incoming", "active"])
      expect(value(e, "mailq_queue_messages", { relay: "relay-a", queue: q }), q).toBeGreaterThanOrEqual(0);

    const reasons = e.samples.filter(
      (s) => s.name === "mailq_deferral_reason_recipients" && s.labels.relay === "relay-a",
    );
    expect(reasons.length).toBeGreaterThan(0);
    expect(reasons.length).toBeLessThanOrEqual(5);
    expect(Math.max(...reasons.map((s) => s.value))).toBe(topCount);
    for (const s of reasons) expect(REASON_CLASSES as readonly string[]).toContain(s.labels.class);

    // (The queue directories are walked only for a partial answer, so no "find" here.)
    for (const probe of ["postqueue -j", "postconf", "ps", "df -P", "df -i", "mail log", "master.pid"]) {
      const count = value(e, "mailq_probe_duration_seconds_count", { relay: "relay-a", probe });
      expect(count, probe).toBeGreaterThanOrEqual(1);
      expect(
        value(e, "mailq_probe_duration_seconds_sum", { relay: "relay-a", probe }),
        probe,
      ).toBeGreaterThan(0);
    }
  });
});
