/**
 * The bot's deferral-reason analysis of a whole mail log file, as its own process (so that its
 * wall time, CPU and peak RSS can be measured): the file is streamed through the bot's own line
 * splitter and LogAccumulator with an unbounded window. Prints JSON: lines, deferrals, every cause.
 *
 *   node bench/.build/bench/log-analysis.js FILE [REFERENCE_ISO]
 */
import { createReadStream } from "node:fs";
import { LogAccumulator } from "../src/analysis/log-summary.js";
import { createLineSplitter } from "../src/parsers/lines.js";

const [file, ref] = process.argv.slice(2);
if (!file) throw new Error("usage: log-analysis.js FILE [REFERENCE_ISO]");
const referenceMs = ref ? Date.parse(ref) : Date.now();
const acc = new LogAccumulator(file, referenceMs, Number.POSITIVE_INFINITY);
const split = createLineSplitter((l) => acc.addLine(l));
for await (const chunk of createReadStream(file, { highWaterMark: 1 << 16 })) split.push(chunk as Buffer);
split.end();
const s = acc.summary(Number.POSITIVE_INFINITY);
process.stdout.write(
  `${JSON.stringify({ linesRead: s.linesRead, deferrals: s.deferrals, reasons: s.reasons.map((r) => [r.reason, r.count]) })}\n`,
);
