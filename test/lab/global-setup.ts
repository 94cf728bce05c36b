/**
 * vitest globalSetup of the "integration" project: one relay lab for the whole run.
 * relay-a holds the standard scenario, relay-b 5 messages to throttle.lab.test.
 * Tests read it with `inject("lab")` (see ./types.ts).
 */
import type { TestProject } from "vitest/node";
import {
  dnsUsers,
  fillStandardScenario,
  LAB_DOMAINS,
  type LabData,
  labDnsmasqPid,
  labProcesses,
  scanLabProcesses,
  sendMail,
  startLab,
  stillRunning,
  waitForQueueSettled,
} from "./lab.js";
import "./types.js";

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const lab = await startLab();
  try {
    const [a, b] = lab.relays;
    if (!a || !b) throw new Error("lab: expected relay-a and relay-b");
    const [scenario] = await Promise.all([
      fillStandardScenario(a),
      sendMail(b, { from: "noreply@shop.example.internal", to: [`late@${LAB_DOMAINS.throttle}`] }, 5).then(
        () => waitForQueueSettled(b),
      ),
    ]);
    const { stop: _stop, ...data } = lab;
    provide("lab", data satisfies LabData);
    provide("labScenario", scenario);
    console.log(`relay lab ready at ${lab.root} in ${Date.now() - t0} ms`);
  } catch (e) {
    await lab.stop();
    throw e;
  }

  return async () => {
    const procs = await labProcesses(lab.root);
    await lab.stop();
    const left: string[] = [];
    for (const p of procs) if (await stillRunning(p)) left.push(`${p.what} (pid ${p.pid})`);
    for (const p of await scanLabProcesses(lab.root)) left.push(`${p.comm} (pid ${p.pid})`);
    // The resolver is shared: the last lab out stops it.
    const dns = await labDnsmasqPid();
    if (dns && (await dnsUsers()).length === 0) left.push(`dnsmasq (pid ${dns}) with no lab using it`);
    if (left.length > 0) throw new Error(`relay lab teardown left processes running: ${left.join(", ")}`);
  };
}
