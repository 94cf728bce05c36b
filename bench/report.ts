/** Renders bench/results.md from one run's measurements. */
import type { Measured, Stats } from "./lib.js";
import { fmt } from "./lib.js";
import type { BenchResults, Series } from "./types.js";

interface Ctx {
  stats: (xs: number[]) => Stats;
  loadNow: number;
}

const num = (n: number) => n.toLocaleString("en-US");

function row(s: Series, ctx: Ctx): string {
  const w = ctx.stats(s.runs.map((r) => r.wall));
  const c = ctx.stats(s.runs.map((r) => r.cpu));
  const m = ctx.stats(s.runs.map((r) => r.rssMb));
  const l = ctx.stats(s.runs.map((r) => r.load1));
  // A first answer that is partial exits 3 by design (status --json): that run did its job.
  const bad = s.runs.filter(
    (r) => r.code !== 0 && !(r.code === 3 && s.name.includes("(first answer)")),
  ).length;
  return `| ${s.name} | ${w.n}${bad ? ` (${bad} failed)` : ""} | **${fmt(w.median)}** | ${fmt(w.min)}–${fmt(w.max)} | ${fmt(c.median)} | ${fmt(m.median, 0)} (max ${fmt(m.max, 0)}) | ${fmt(l.min)}–${fmt(l.max)} | ${s.what} |`;
}

const HEAD = `| measurement | runs | wall median (s) | wall min–max (s) | CPU user+sys median (s) | peak RSS median (MB) | load avg (1 min) before | notes |
| --- | --- | --- | --- | --- | --- | --- | --- |`;

const med = (s: Series | undefined, f: (m: Measured) => number, ctx: Ctx) =>
  s ? ctx.stats(s.runs.map(f)).median : Number.NaN;
const verdict = (ok: boolean) => (ok ? "**PASS**" : "**FAIL**");

export function writeResults(r: BenchResults, ctx: Ctx): string {
  const by = (name: string) => r.queue.find((s) => s.name.startsWith(name));
  const floorSsh = med(by("postqueue -j > /dev/null over SSH"), (m) => m.wall, ctx);
  const floorLocal = med(by("postqueue -j > /dev/null on the relay"), (m) => m.wall, ctx);
  const floorWire = med(by("postqueue -j over SSH, the listing carried"), (m) => m.wall, ctx);
  const qshape = med(by("qshape"), (m) => m.wall, ctx);
  const bot = med(by("mailq-bot status --json --wait-full"), (m) => m.wall, ctx);
  const first = med(by("mailq-bot status --json (first"), (m) => m.wall, ctx);
  const out: string[] = [];
  out.push(`# Benchmark results (${num(r.n)} messages)`);
  out.push("");
  out.push(
    `Written by \`npm run bench\` (bench/run.ts) on ${r.date}. Raw numbers: \`${r.n === 100_000 ? "results.json" : "the .json next to this file"}\`.`,
  );
  out.push("");
  out.push("## Machine");
  out.push("");
  const mc = r.machine;
  out.push(`- CPU: ${mc.cpu}, ${mc.cores} cores; memory ${mc.memoryGb} GB`);
  out.push(`- ${mc.os}, kernel ${mc.kernel}; Node ${mc.node}; Postfix ${mc.postfix}`);
  out.push(
    r.cores
      ? `- Cores split (\`BENCH_CORES=split\`): the lab relay's processes on CPU ${r.cores.relay}, every measured client (the floors' ssh, the bot) on CPU ${r.cores.client}, as when the bot and its relay are different machines`
      : "- Cores shared: the lab relay and every measured client run on all cores, so a client's CPU slows the relay's listing too (`BENCH_CORES=split` separates them)",
  );
  out.push(
    "- The load average before each run is in the tables: anything else running on the machine shows there.",
  );
  out.push("");
  out.push("## How the queue was built");
  out.push("");
  for (const q of r.queueBuild) out.push(`- ${q}`);
  // A run on a kept lab (BENCH_REUSE_LAB) filled nothing: the fill figures belong to the run that did.
  if (r.fill.smtpMessages > 0)
    out.push(
      `- SMTP fill rate: ${num(r.fill.smtpMessages)} messages in ${fmt(r.fill.smtpSeconds, 1)} s = **${fmt(r.fill.smtpMessages / r.fill.smtpSeconds, 0)} messages/s** accepted; the queue manager had tried and deferred all of them ${fmt(r.fill.settleSeconds, 1)} s later in total`,
    );
  if (r.fill.cloned)
    out.push(`- cloning ${num(r.fill.cloned)} queue files took ${fmt(r.fill.cloneSeconds, 1)} s`);
  out.push(
    '- Mix: 82 % to refused.lab.test (connection refused, then "delivery temporarily suspended"), 6 % throttle.lab.test (451), 4 % dnsfail.lab.test (SERVFAIL), 5 % put on hold, 3 % with 2–3 recipients across those domains; 7 senders (one null), bodies of 0.4–4.5 kB.',
  );
  if (r.instanceSettings.length)
    out.push(
      `- Bench-only settings on the bench's own instance (\`postconf -e\`): ${r.instanceSettings.map((s) => `\`${s}\``).join(", ")} — fast filling, and no retry wave moving messages to active during the measurements.`,
    );
  out.push(
    `- On disk: ${Object.entries(r.queueOnDisk)
      .map(([k, v]) => `${k} ${num(v)}`)
      .join(", ")}; \`postqueue -j\` listed **${num(r.listed)}** messages.`,
  );
  out.push("");
  out.push(`## Queue status at ${num(r.n)} messages`);
  out.push("");
  out.push(
    "Each measurement after one warm-up run (not counted), interleaved round-robin so that load from other users hits all of them alike. Wall, CPU and peak RSS from GNU time (`/usr/bin/time -f '%e %U %S %M'`) around the process named: for `postqueue` that is postqueue (or the ssh client) only, not Postfix's showq daemon that does the reading; for the bot it is the bot's own node process.",
  );
  out.push("");
  out.push(
    `The bot's processes ran with \`NODE_OPTIONS=${r.botNodeOptions ?? ""}\`, as deploy/mailq-bot.service and the Dockerfile run it.`,
  );
  out.push("");
  out.push(HEAD);
  for (const s of r.queue) out.push(row(s, ctx));
  out.push("");
  for (const f of r.firstAnswers)
    out.push(
      `- ${f.series}: listing ${f.complete ? "complete" : `partial, ${num(f.entriesRead)} entries read`}, ${num(f.messages)} messages reported (${f.countsExact ? "exact counts from the queue directories" : "lower bounds"})${f.complete ? "" : f.causesFromLog ? "; top causes from the mail log, labelled so" : "; no causes from the mail log"}.`,
    );
  out.push("");
  if (r.log) {
    out.push(`## Mail log: ${num(r.log.lines)} lines (${fmt(r.log.bytes / 2 ** 20, 0)} MiB)`);
    out.push("");
    out.push(
      'Generated by bench/maillog.ts (seeded): a day of RFC 3164 lines — smtpd connect/client/disconnect, cleanup message-id, qmgr from=/removed, smtp status=sent/deferred/bounced to ~430 destinations and ~2M distinct recipients, error-service "delivery temporarily suspended" retries; deferral reasons: connection timed out/refused, greylisting 451, Gmail-style 421 rate limit with trace tokens, 452 over quota with the address, DNS SERVFAIL, TLS not offered, lost connection.',
    );
    out.push("");
    out.push(HEAD);
    for (const s of r.log.series) out.push(row(s, ctx));
    out.push("");
    const c = r.log.comparison;
    out.push(
      `Same causes, checked mechanically (bench/pflogsumm.ts): pflogsumm's "message deferral detail" (with --verbose-msg-detail: ${num(c.pflogsummRawReasons)} raw reasons, cut at the first ")" as pflogsumm does) and the bot's ${num(c.botCauses)} causes, both mapped through the bot's normaliseReason of the text up to the first ")" → ${num(c.canonicalCauses)} causes. Deferrals: pflogsumm ${num(c.pflogsummDeferrals)}, bot ${num(c.botDeferrals)}; causes only pflogsumm found: ${c.onlyPflogsumm.length}; only the bot: ${c.onlyBot.length}; count mismatches: ${c.countMismatches.length} → **${c.same ? "same causes, same counts" : "DIFFERENT"}**.`,
    );
    if (!c.same) out.push(`\n\`\`\`\n${JSON.stringify(c, null, 2)}\n\`\`\``);
    out.push("");
  }
  if (r.parser) {
    const p = r.parser.result as Record<string, number>;
    out.push("## The parser on its own");
    out.push("");
    out.push(HEAD);
    out.push(row(r.parser.series, ctx));
    out.push("");
    out.push(
      `Last run: ${num(p.lines ?? 0)} lines (${fmt((p.bytes ?? 0) / 2 ** 20, 0)} MiB) in ${fmt(p.parseSeconds ?? 0)} s net of generating the input = **${num(p.linesPerSecond ?? 0)} lines/s** (${fmt(p.mbPerSecond ?? 0, 0)} MiB/s); peak RSS sampled in-process ${fmt(p.peakRssMb ?? 0, 0)} MB.`,
    );
    out.push("");
  }
  out.push("## The card's size");
  out.push("");
  out.push("| queue entries | source | card JSON (bytes) |\n| --- | --- | --- |");
  for (const c of r.cards) out.push(`| ${num(c.entries)} | ${c.source} | ${num(c.cardJsonBytes)} |`);
  out.push("");
  out.push("## Targets");
  out.push("");
  out.push("| target | measured | verdict |\n| --- | --- | --- |");
  const wall = (name: string) => med(by(name), (m) => m.wall, ctx);
  const maxRss = (name: string) => {
    const s = by(name);
    return s ? ctx.stats(s.runs.map((m) => m.rssMb)).max : Number.NaN;
  };
  if (Number.isFinite(bot) && Number.isFinite(floorWire))
    out.push(
      `| full status at ${num(r.n)} ≤ 1.10 × the listing carried over SSH (same run) | bot ${fmt(bot)} s / ${fmt(floorWire)} s = **${fmt(bot / floorWire)}×** | ${verdict(bot <= 1.1 * floorWire)} |`,
    );
  if (Number.isFinite(bot))
    out.push(
      `| full status at ${num(r.n)} ≤ 1.10 × postqueue -j discarded on the relay (same run; the listing never crosses the wire) | bot ${fmt(bot)} s / ${fmt(floorSsh)} s = **${fmt(bot / floorSsh)}×**${Number.isFinite(floorLocal) ? ` (vs local floor ${fmt(floorLocal)} s: ${fmt(bot / floorLocal)}×)` : ""} | ${verdict(bot <= 1.1 * floorSsh)} |`,
    );
  const service = wall("in the running service: /mailq status");
  if (Number.isFinite(service) && Number.isFinite(floorWire))
    out.push(
      `| full status at ${num(r.n)} in the running service (/mailq status) ≤ 1.10 × the listing carried over SSH | ${fmt(service)} s / ${fmt(floorWire)} s = **${fmt(service / floorWire)}×** | ${verdict(service <= 1.1 * floorWire)} |`,
    );
  const botLogin = wall("login cost 1 s: mailq-bot status --json --wait-full");
  const floorLogin = wall("login cost 1 s: postqueue -j > /dev/null");
  const floorWireLogin = wall("login cost 1 s: postqueue -j over SSH, the listing carried");
  if (Number.isFinite(botLogin) && Number.isFinite(floorWireLogin))
    out.push(
      `| full status with 1 s login cost per SSH command vs the carried floor with the same login cost | ${fmt(botLogin)} s / ${fmt(floorWireLogin)} s = **${fmt(botLogin / floorWireLogin)}×** | ${verdict(botLogin <= 1.1 * floorWireLogin)} (≤ 1.10×) |`,
    );
  if (Number.isFinite(botLogin) && Number.isFinite(floorLogin))
    out.push(
      `| full status with 1 s login cost per SSH command vs the floor with the same login cost | ${fmt(botLogin)} s / ${fmt(floorLogin)} s = **${fmt(botLogin / floorLogin)}×** | ${verdict(botLogin <= 1.1 * floorLogin)} (≤ 1.10×) |`,
    );
  if (Number.isFinite(qshape) && Number.isFinite(bot))
    out.push(
      `| status faster than qshape at ${num(r.n)} | bot ${fmt(bot)} s vs qshape ${fmt(qshape)} s (${fmt(qshape / bot, 1)}× faster) | ${verdict(bot < qshape)} |`,
    );
  const firstLogin = wall("login cost 1 s: mailq-bot status --json (first");
  const firstLoginCold = wall("login cost 1 s, nothing remembered: mailq-bot status --json (first");
  const big = r.n >= 1_000_000;
  if (Number.isFinite(first))
    out.push(
      `| first card at 1,000,000 < 3 s (light login shell) | ${fmt(first)} s (median) at ${num(r.n)} | ${big ? verdict(first < 3) : "see results-1m.md"} |`,
    );
  if (Number.isFinite(firstLogin))
    out.push(
      `| first card at 1,000,000 < 5 s with 1 s login cost per SSH command | ${fmt(firstLogin)} s (median) at ${num(r.n)} | ${big ? verdict(firstLogin < 5) : "see results-1m.md"} |`,
    );
  if (Number.isFinite(firstLoginCold))
    out.push(
      `| the same, nothing remembered (a relay's first status) | ${fmt(firstLoginCold)} s (median) at ${num(r.n)} | ${big ? verdict(firstLoginCold < 5) : "see results-1m.md"} |`,
    );
  const paths = r.queue.filter((s) => s.name.includes("mailq-bot"));
  if (paths.length)
    out.push(
      `| peak RSS ≤ 100 MB at 1,000,000 on every path | ${paths.map((s) => `${s.name.replace(": mailq-bot status --json", "").replace("mailq-bot status --json", "SSH")}: ${fmt(maxRss(s.name), 0)} MB`).join("; ")} (max over runs) | ${big ? verdict(paths.every((s) => maxRss(s.name) <= 100)) : `${verdict(paths.every((s) => maxRss(s.name) <= 100))} at this size; see results-1m.md`} |`,
    );
  const bySource = new Map<string, number[]>();
  for (const c of r.cards) bySource.set(c.source, [...(bySource.get(c.source) ?? []), c.cardJsonBytes]);
  const growth = Math.max(...[...bySource.values()].map((v) => Math.max(...v) - Math.min(...v)));
  // A re-measurement on a kept lab (BENCH_REUSE_LAB) takes no card sizes: no row then.
  if (r.cards.length)
    out.push(
      `| card size does not grow with the queue | ${r.cards.map((c) => `${num(c.entries)}: ${num(c.cardJsonBytes)} B`).join("; ")} | ${verdict(growth < 400)} (largest change within one source: ${num(growth)} B) |`,
    );
  out.push("");
  out.push(`Load average when the report was written: ${ctx.loadNow}.`);
  out.push("");
  return out.join("\n");
}
