/**
 * The streaming core on its own: N synthetic `postqueue -j` lines (default 1,000,000), made by a
 * generator and handed over in 64 KiB chunks as a relay's stdout would arrive, through the bot's
 * line splitter, parsePostqueueJsonLine and QueueAccumulator. Prints JSON: lines/s, peak RSS
 * sampled in-process, and the status card's JSON size at several points of the stream (the card
 * must not grow with the queue).
 *
 *   node bench/.build/bench/parser.js [LINES]
 */

import { QueueAccumulator } from "../src/analysis/queue-summary.js";
import { buildSnapshot } from "../src/analysis/snapshot.js";
import { statusCard } from "../src/cards/status.js";
import { createLineSplitter } from "../src/parsers/lines.js";
import { parsePostqueueJsonLine } from "../src/parsers/postqueue.js";

const total = Number(process.argv[2] ?? 1_000_000);
const NOW = 1_795_000_000;

const REASONS = [
  "connect to mx1.example.net[203.0.113.10]:25: Connection timed out",
  "delivery temporarily suspended: connect to mx1.example.net[203.0.113.10]:25: Connection timed out",
  "host mx.throttle.example[198.51.100.7] said: 451 4.7.1 Try again later (in reply to RCPT TO command)",
  "Host or domain name not found. Name service error for name=broken.example type=MX: Host not found, try again",
  "delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:10024: Connection refused",
];

/** A realistic line: hex queue ID, 1–3 recipients, some without a reason (active), JSON as showq writes it. */
export function* postqueueLines(n: number): Generator<string> {
  for (let i = 0; i < n; i++) {
    const id = (0x100000 + i).toString(16).toUpperCase().padStart(11, "A");
    const nr = i % 17 === 0 ? 3 : 1;
    const rc: string[] = [];
    for (let r = 0; r < nr; r++) {
      const dom = `d${(i * 7 + r) % 5000}.example.${r % 2 ? "com" : "net"}`;
      const reason = REASONS[(i + r) % REASONS.length] ?? "";
      rc.push(
        i % 50 === 0
          ? `{"address": "user${i}@${dom}"}`
          : `{"address": "user${i}@${dom}", "delay_reason": "${reason}"}`,
      );
    }
    const q = i % 20 === 0 ? "hold" : i % 50 === 0 ? "active" : "deferred";
    yield `{"queue_name": "${q}", "queue_id": "${id}", "arrival_time": ${NOW - (i % 90_000)}, "message_size": ${800 + (i % 9000)}, "forced_expire": false, "sender": "app${i % 40}@billing.example.internal", "recipients": [${rc.join(", ")}]}`;
  }
}

function* chunks(lines: Iterable<string>, size = 1 << 16): Generator<Buffer> {
  let buf = "";
  for (const l of lines) {
    buf += `${l}\n`;
    if (buf.length >= size) {
      yield Buffer.from(buf);
      buf = "";
    }
  }
  if (buf) yield Buffer.from(buf);
}

function cardBytes(acc: QueueAccumulator, nowMs: number): number {
  const snap = buildSnapshot({
    relay: "relay-a",
    takenAtMs: nowMs,
    listingComplete: true,
    queue: acc.summary(10),
    probeErrors: [],
  });
  return JSON.stringify(statusCard([snap], { nowMs })).length;
}

const checkpoints = new Set([1_000, 10_000, 100_000, 1_000_000, total]);
const acc = new QueueAccumulator(NOW);
let lines = 0;
let peakRss = process.memoryUsage().rss;
const cards: { entries: number; cardJsonBytes: number }[] = [];
let parseTimeMs = 0;
const split = createLineSplitter((line) => {
  if (line.length === 0) return;
  const r = parsePostqueueJsonLine(line);
  if (r.ok) acc.add(r.value);
  else acc.addParseError();
  lines++;
  if (checkpoints.has(lines)) {
    const t = performance.now();
    cards.push({ entries: lines, cardJsonBytes: cardBytes(acc, NOW * 1000) });
    parseTimeMs -= performance.now() - t; // rendering the card is not parsing
  }
  if ((lines & 0x3fff) === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
});

// Generating the input costs time too: measure it alone, then subtract.
let genMs = performance.now();
let genBytes = 0;
for (const c of chunks(postqueueLines(total))) genBytes += c.length;
genMs = performance.now() - genMs;

const t0 = performance.now();
for (const c of chunks(postqueueLines(total))) split.push(c);
split.end();
parseTimeMs += performance.now() - t0;
peakRss = Math.max(peakRss, process.memoryUsage().rss);
const s = acc.summary(10);
const netMs = Math.max(1, parseTimeMs - genMs);
process.stdout.write(
  `${JSON.stringify({
    lines,
    bytes: genBytes,
    messages: s.messages,
    recipients: s.recipients,
    parseErrors: s.parseErrors,
    generateSeconds: genMs / 1000,
    totalSeconds: parseTimeMs / 1000,
    parseSeconds: netMs / 1000,
    linesPerSecond: Math.round(lines / (netMs / 1000)),
    mbPerSecond: genBytes / 2 ** 20 / (netMs / 1000),
    peakRssMb: peakRss / 2 ** 20,
    cards,
  })}\n`,
);
