import * as z from "zod";
import { isAllowed } from "../changes/approval.js";
import type { Need } from "../chat/command.js";
import type { Chat } from "../chat/port.js";
import type { Config } from "../config.js";
import { describeError } from "../errors.js";
import type { Store } from "../store/store.js";
import { userId } from "./ids.js";

/** Who asks, and from where, as Slack's payload names it. */
export interface Asker {
  userId: string;
  channelId: string;
  /** The workspace the request came from (team_id / team.id). */
  teamId?: string | undefined;
  enterpriseId?: string | undefined;
  /** The asker's home workspace when Slack names it (user.team_id): another one is a Slack Connect guest. */
  userTeamId?: string | undefined;
}

/** The team fields of an interactive payload (button press, form submission), for its zod schema. */
export const payloadTeams = {
  team: z.object({ id: z.string() }).nullish(),
  enterprise: z.object({ id: z.string() }).nullish(),
};
export const payloadUser = z.object({
  id: userId,
  team_id: z.string().optional(),
});

/** Who pressed or submitted, from an interactive payload checked with the shapes above. */
export function interactiveAsker(
  p: {
    user: { id: string; team_id?: string | undefined };
    team?: { id: string } | null;
    enterprise?: { id: string } | null;
  },
  channelId: string,
): Asker {
  return {
    userId: p.user.id,
    channelId,
    teamId: p.team?.id,
    enterpriseId: p.enterprise?.id,
    userTeamId: p.user.team_id,
  };
}

export interface AccessChecker {
  /** Why the asker may not do this (already audited), or undefined when they may. */
  refusal(who: Asker, need: Need, what: string, relay?: string | null): Promise<string | undefined>;
}

/** The people allowed to read envelopes: access.inspectors, else the requesters and approvers named. */
export function inspectorsOf(c: Config): string[] {
  return c.access.inspectors ?? [...new Set([...c.access.requesters, ...c.access.approvers])];
}

/**
 * The access model, checked on every request before anything is read: the team (and the
 * asker's home team: Slack Connect guests are refused), the channel, then the role.
 * Every refusal lands in the audit trail.
 */
export function accessChecker(deps: {
  config: Config;
  store: Store;
  chat: Pick<Chat, "groupMembers">;
  /** The bot's own workspace and org (Slack's auth.test). */
  whoAmI: () => Promise<{ team_id?: string | undefined; enterprise_id?: string | undefined }>;
  nowMs: () => number;
}): AccessChecker {
  let home: Promise<string[]> | undefined;
  const served = async (): Promise<string[]> => {
    const listed = deps.config.access.teams;
    if (listed.length) return listed;
    // Unset: the workspace (and org) the bot's own token belongs to.
    home ??= deps.whoAmI().then(
      (r) => [r.team_id, r.enterprise_id].filter((x): x is string => typeof x === "string" && x !== ""),
      (e) => {
        home = undefined;
        throw new Error(`cannot learn the bot's own workspace (auth.test): ${describeError(e)}`);
      },
    );
    return home;
  };
  const groups = deps.chat;

  async function problem(who: Asker, need: Need): Promise<string | undefined> {
    const a = deps.config.access;
    const teams = await served();
    const workspaceServed =
      (who.teamId !== undefined && teams.includes(who.teamId)) ||
      (who.enterpriseId !== undefined && teams.includes(who.enterpriseId));
    if (!workspaceServed) return "this bot does not serve your workspace";
    if (who.userTeamId !== undefined && who.userTeamId !== who.teamId && !teams.includes(who.userTeamId))
      return "this bot does not serve users from other organisations (Slack Connect)";
    if (a.channels.length && !a.channels.includes(who.channelId))
      return "this bot does not answer in this channel; ask in the incident channel it serves";
    if (need === "view" && a.viewers.length && !(await isAllowed(who.userId, a.viewers, groups)))
      return "you are not in access.viewers; ask a mail lead to add you";
    if (need === "inspect") {
      const list = inspectorsOf(deps.config);
      if (!list.length)
        return "nobody may read envelopes until access.inspectors (or requesters/approvers) names someone";
      if (!(await isAllowed(who.userId, list, groups)))
        return "reading a message's envelope is for access.inspectors (by default the named requesters and approvers)";
    }
    return undefined;
  }

  return {
    async refusal(who, need, what, relay = null) {
      // Fails closed: when access cannot be checked (Slack unreachable), nothing runs.
      const why = await problem(who, need).catch(
        (e: unknown) => `the bot could not check your access (${describeError(e)}); try again in a minute`,
      );
      if (why === undefined) return undefined;
      await deps.store.audit.append({
        atMs: deps.nowMs(),
        kind: "refuse",
        actor: who.userId,
        relay,
        ticket: null,
        requestId: null,
        detail: {
          decision: what,
          why,
          channel: who.channelId,
          team: who.teamId ?? null,
          enterprise: who.enterpriseId ?? null,
          userTeam: who.userTeamId ?? null,
        },
      });
      return `Sorry, ${why}. Nothing was run.`;
    },
  };
}
