/**
 * Manual control of a relay lab (run as root):
 *   npx tsx test/lab/cli.ts up   [--root DIR]   start relay-a (standard scenario) and relay-b, leave them running
 *   npx tsx test/lab/cli.ts down [--root DIR]   stop the lab at DIR
 *   npx tsx test/lab/cli.ts down --all          stop every lab under /var/lib/mailq-lab
 *   npx tsx test/lab/cli.ts status [--root DIR] print lab.json
 * DIR defaults to /var/lib/mailq-lab/cli.
 */
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  DEFAULT_LAB_BASE,
  fillStandardScenario,
  LAB_DOMAINS,
  readLabData,
  sendMail,
  startLab,
  stopLabAt,
  waitForQueueSettled,
} from "./lab.js";

const DEFAULT_ROOT = join(DEFAULT_LAB_BASE, "cli");

function usage(): never {
  console.error("usage: cli.ts up|down|status [--root DIR] | down --all");
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  let root = DEFAULT_ROOT;
  let all = false;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--root" && rest[i + 1]) root = rest[++i] ?? root;
    else if (rest[i] === "--all") all = true;
    else usage();
  }
  switch (cmd) {
    case "up": {
      const t0 = Date.now();
      const lab = await startLab({ root });
      const t1 = Date.now();
      try {
        const [a, b] = lab.relays;
        if (!a || !b) throw new Error("expected two relays");
        const summary = await fillStandardScenario(a);
        await sendMail(b, { from: "app@billing.example.internal", to: [`late@${LAB_DOMAINS.throttle}`] }, 5);
        await waitForQueueSettled(b);
        console.error(
          `lab up in ${t1 - t0} ms; ${a.name}: ${summary.messages} messages settled in ${summary.settleMs} ms; ${b.name}: 5 messages`,
        );
        for (const r of lab.relays)
          console.error(
            `  ${r.name}: ssh -i ${r.privateKeyPath} -p ${r.port} root@127.0.0.1   MAIL_CONFIG=${r.configDir}`,
          );
        console.error(`  stop with: npx tsx test/lab/cli.ts down --root ${lab.root}`);
        console.log(lab.mailqConfigPath);
      } catch (e) {
        await lab.stop();
        throw e;
      }
      return;
    }
    case "down": {
      if (all) {
        if (!existsSync(DEFAULT_LAB_BASE)) return;
        for (const d of await readdir(DEFAULT_LAB_BASE)) {
          const dir = join(DEFAULT_LAB_BASE, d);
          if (existsSync(join(dir, ".mailq-lab"))) {
            await stopLabAt(dir);
            console.error(`stopped ${dir}`);
          }
        }
        return;
      }
      if (!existsSync(root)) {
        console.error(`no lab at ${root}`);
        return;
      }
      await stopLabAt(root);
      console.error(`stopped ${root}`);
      return;
    }
    case "status":
      console.log(JSON.stringify(await readLabData(root), null, 2));
      return;
    default:
      usage();
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
