/**
 * "The same causes found", checked mechanically: pflogsumm's "message deferral detail" (run with
 * --verbose-msg-detail, so that reasons are not trimmed to 65 characters) against the bot's causes.
 *
 * pflogsumm keeps each raw reason up to its first ")" (its regex is `status=deferred \(([^\)]+)`),
 * per delivery service; the bot keeps the whole reason, normalised (addresses, trace tokens and the
 * "delivery temporarily suspended:" prefix removed). Both sides are mapped to one canonical key —
 * the bot's normaliseReason of the text up to the first ")" — and the counts per key must agree.
 */
import { normaliseReason } from "../src/analysis/reasons.js";

export interface Comparison {
  pflogsummDeferrals: number;
  botDeferrals: number;
  pflogsummRawReasons: number;
  botCauses: number;
  canonicalCauses: number;
  onlyPflogsumm: string[];
  onlyBot: string[];
  countMismatches: { cause: string; pflogsumm: number; bot: number }[];
  same: boolean;
}

const canonical = (reason: string) => normaliseReason(reason.split(")")[0] ?? "");

/** reason → count from pflogsumm's deferral detail, all services summed. */
export function parseDeferralDetail(report: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = report.split("\n");
  let i = lines.indexOf("message deferral detail");
  if (i < 0) return out;
  for (i += 2; i < lines.length; i++) {
    const l = lines[i] ?? "";
    if (l.trim() === "") break;
    if (/^ {2}\S.* \(total: \d+\)$/.test(l)) continue; // a service
    const m = /^\s+(\d+)([ km])\s\s(.*)$/.exec(l);
    if (!m) continue;
    const unit = m[2] === "k" ? 1024 : m[2] === "m" ? 1024 * 1024 : 1;
    out.set(m[3] ?? "", (out.get(m[3] ?? "") ?? 0) + Number(m[1]) * unit);
  }
  return out;
}

export function comparePflogsumm(pflogsummReport: string, botJson: string): Comparison {
  const pfl = parseDeferralDetail(pflogsummReport);
  const bot = JSON.parse(botJson) as { deferrals: number; reasons: [string, number][] };
  const a = new Map<string, number>();
  for (const [reason, n] of pfl) a.set(canonical(reason), (a.get(canonical(reason)) ?? 0) + n);
  const b = new Map<string, number>();
  for (const [reason, n] of bot.reasons) b.set(canonical(reason), (b.get(canonical(reason)) ?? 0) + n);
  const onlyPflogsumm = [...a.keys()].filter((k) => !b.has(k));
  const onlyBot = [...b.keys()].filter((k) => !a.has(k));
  const countMismatches = [...a]
    .filter(([k, n]) => b.has(k) && b.get(k) !== n)
    .map(([cause, n]) => ({ cause, pflogsumm: n, bot: b.get(cause) ?? 0 }));
  const pflogsummDeferrals = [...pfl.values()].reduce((x, y) => x + y, 0);
  return {
    pflogsummDeferrals,
    botDeferrals: bot.deferrals,
    pflogsummRawReasons: pfl.size,
    botCauses: bot.reasons.length,
    canonicalCauses: b.size,
    onlyPflogsumm: onlyPflogsumm.slice(0, 20),
    onlyBot: onlyBot.slice(0, 20),
    countMismatches: countMismatches.slice(0, 20),
    same:
      onlyPflogsumm.length === 0 &&
      onlyBot.length === 0 &&
      countMismatches.length === 0 &&
      pflogsummDeferrals === bot.deferrals,
  };
}
