import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { MailqError } from "../../src/errors.js";
import type { AuditEntry } from "../../src/store/store.js";
import { holdRequest } from "../helpers/approvals.js";
import { type RunningBot, SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { closedRelaysConfig } from "../helpers/config.js";
import {
  buttonPressBody,
  type FakeSlack,
  postSigned,
  slashCommandBody,
  startFakeSlack,
} from "../helpers/slack.js";

// Signed requests to the real Bolt app. The relay is a closed loopback port: whatever gets
// past the access check fails to connect, so a refusal is told apart from a run by the audit.
const config = closedRelaysConfig(["relay-a"], {
  access: {
    requesters: ["UALICE"],
    approvers: ["UBOB"],
    viewers: ["UALICE", "UBOB", "UVIEWER", "SVIEWERS"],
    channels: ["CINCIDENT"],
    teams: ["TLAB"],
  },
});

let slack: FakeSlack;
let bot: RunningBot;

beforeAll(async () => {
  slack = await startFakeSlack();
  slack.on("usergroups.users.list", (c) => ({
    body: { ok: true, users: c.body.usergroup === "SVIEWERS" ? ["UGROUPIE"] : [] },
  }));
  bot = await startBot({ config, apiUrl: slack.apiUrl });
});
afterAll(async () => {
  await bot?.stop();
  await slack?.close();
});

async function slash(text: string, o: { user?: string; channel?: string; team?: string } = {}) {
  const r = await postSigned(
    bot.url,
    slashCommandBody({
      text,
      user_id: o.user ?? "UALICE",
      channel_id: o.channel ?? "CINCIDENT",
      ...(o.team ? { team_id: o.team } : {}),
      response_url: slack.responseUrl(`a-${Date.now()}`),
    }),
    { secret: SIGNING_SECRET },
  );
  expect(r.status).toBe(200);
  return String(JSON.parse(r.text).text);
}

async function press(o: {
  user: string;
  actionId: string;
  blockId: string;
  value: string;
  userTeam?: string;
  team?: string;
}) {
  const n = slack.calls.length;
  const r = await postSigned(bot.url, buttonPressBody({ ...o, responseUrl: slack.responseUrl("press") }), {
    secret: SIGNING_SECRET,
  });
  expect(r.status).toBe(200);
  const said = await slack.waitFor(
    "chat.postEphemeral",
    (c) => c.body.user === o.user && slack.calls.indexOf(c) >= n,
    10_000,
  );
  return String(said.body.text);
}

const audit = async (kind: AuditEntry["kind"], actor: string) =>
  (await bot.store.audit.list({ limit: 200 })).filter((e) => e.kind === kind && e.actor === actor);

describe("the access model, on every request", () => {
  it("refuses a request from another workspace, tells nothing about the relays, and audits it", async () => {
    const text = await slash("status", { team: "TOTHER", user: "UOUTSIDER" });
    expect(text).toBe("Sorry, this bot does not serve your workspace. Nothing was run.");
    expect(text).not.toContain("relay-a");
    expect(await slash("help", { team: "TOTHER", user: "UOUTSIDER" })).toContain(
      "does not serve your workspace",
    );
    const refused = await audit("refuse", "UOUTSIDER");
    expect(refused).toHaveLength(2);
    expect(refused[0]?.detail).toMatchObject({ team: "TOTHER", channel: "CINCIDENT" });
  });

  it("refuses a Slack Connect guest (home workspace elsewhere) pressing a triage button", async () => {
    const said = await press({
      user: "UGUEST",
      userTeam: "TEXTERNAL",
      actionId: "mailq_triage_status",
      blockId: "mailq_triage_next_0",
      value: JSON.stringify({ relay: "relay-a" }),
    });
    expect(said).toContain("does not serve users from other organisations");
    expect(await audit("refuse", "UGUEST")).toHaveLength(1);
  });

  it("answers only in access.channels, politely, elsewhere", async () => {
    const text = await slash("status relay-a", { channel: "CRANDOM" });
    expect(text).toContain("does not answer in this channel");
    expect((await audit("refuse", "UALICE")).some((e) => e.detail.channel === "CRANDOM")).toBe(true);
  });

  it("read-only subcommands are for access.viewers (users or their groups)", async () => {
    expect(await slash("status", { user: "UMALLORY" })).toContain("you are not in access.viewers");
    expect(await slash("audit", { user: "UMALLORY" })).toContain("you are not in access.viewers");
    expect(await slash("status", { user: "UGROUPIE" })).toMatch(/^Probing relay-a/);
    expect(await audit("refuse", "UMALLORY")).toHaveLength(2);
  });

  it("inspect by a viewer who is not an inspector is refused and audited; nothing is read", async () => {
    const text = await slash("inspect relay-a 3F1A61A0A1", { user: "UVIEWER" });
    expect(text).toContain("reading a message's envelope is for access.inspectors");
    const [refusal] = await audit("refuse", "UVIEWER");
    expect(refusal).toMatchObject({ relay: "relay-a", detail: { decision: "/mailq inspect" } });
    expect(await audit("inspect", "UVIEWER")).toEqual([]);
  });

  it("inspect by an approver (an inspector by default) goes on, and who read which ID is audited", async () => {
    expect(await slash("inspect relay-a 3F1A61A0A1", { user: "UBOB" })).toMatch(/^Reading 3F1A61A0A1/);
    for (let i = 0; i < 100 && !(await audit("inspect", "UBOB")).length; i++)
      await new Promise((r) => setTimeout(r, 50));
    const [read] = await audit("inspect", "UBOB");
    // The relay cannot be reached here: the read failed, and that is recorded too.
    expect(read).toMatchObject({ relay: "relay-a", detail: { queueId: "3F1A61A0A1", channel: "CINCIDENT" } });
    expect(String(read?.detail.error)).toMatch(/relay-a/);
  });

  it("an approval pressed from another workspace is refused before any rule runs", async () => {
    const r = await bot.store.approvals.create(holdRequest(Date.now()));
    const said = await press({
      user: "UBOB",
      team: "TOTHER",
      actionId: "mailq_approve",
      blockId: `mailq_approval:${r.id}`,
      value: r.id,
    });
    expect(said).toContain("does not serve your workspace");
    expect((await bot.store.approvals.get(r.id))?.status).toBe("pending");
    expect((await audit("refuse", "UBOB")).some((e) => String(e.detail.decision).startsWith("approve"))).toBe(
      true,
    );
  });
});

describe("when access cannot be checked", () => {
  it("fails closed: when a viewers group cannot be read (usergroups.users.list fails), nothing runs", async () => {
    const s2 = await startFakeSlack();
    s2.on("usergroups.users.list", () => ({ body: { ok: false, error: "missing_scope" } }));
    const b2 = await startBot({
      config: closedRelaysConfig(["relay-a"], { access: { viewers: ["SVIEWERS"] } }),
      apiUrl: s2.apiUrl,
    });
    try {
      const r = await postSigned(
        b2.url,
        slashCommandBody({ text: "status", user_id: "UALICE", response_url: s2.responseUrl("x") }),
        { secret: SIGNING_SECRET },
      );
      expect(JSON.parse(r.text).text).toMatch(
        /^Sorry, the bot could not check your access \(.*missing_scope/,
      );
      expect((await b2.store.audit.list({ limit: 5 }))[0]).toMatchObject({ kind: "refuse", actor: "UALICE" });
      expect(s2.callsTo("chat.postMessage")).toEqual([]);
    } finally {
      await b2.stop();
      await s2.close();
    }
  });
});

describe("the access keys in the configuration", () => {
  it("are validated with their paths", () => {
    const relay = {
      name: "relay-a",
      host: "mx1.example.net",
      username: "mailqbot",
      privateKeyPath: "k",
      hostKeyFingerprint: `SHA256:${"Q".repeat(43)}`,
    };
    const bad = () =>
      parseConfig(
        {
          relays: [relay],
          access: { viewers: ["alice"], inspectors: ["#ops"], channels: ["incident"], teams: ["lab"] },
        },
        "mailq.yaml",
        "/etc",
      );
    expect(bad).toThrow(MailqError);
    try {
      bad();
    } catch (e) {
      const m = (e as Error).message;
      for (const path of ["access.viewers.0", "access.inspectors.0", "access.channels.0", "access.teams.0"])
        expect(m).toContain(path);
    }
    const ok = parseConfig({ relays: [relay] }, "mailq.yaml", "/etc");
    expect(ok.access).toEqual({ requesters: [], approvers: [], viewers: [], channels: [], teams: [] });
  });
});
