import { randomUUID } from "node:crypto";
import type { ApprovalRepo, ApprovalRequest } from "../../src/store/store.js";
import { waitFor } from "../lab/sys.js";

type NewRequest = Parameters<ApprovalRepo["create"]>[0];

/** A pending `hold` of one deferred message, as `/mailq hold` leaves it; `over` replaces any field. */
export function holdRequest(nowMs: number, over: Partial<NewRequest> = {}): NewRequest {
  return {
    id: randomUUID(),
    relay: "relay-a",
    action: "hold",
    selector: "3F1A61A0A1",
    ticket: "INC-7",
    reason: "",
    requester: "UALICE",
    channelId: "CINCIDENT",
    messageTs: "1700000000.000100",
    createdAtMs: nowMs,
    expiresAtMs: nowMs + 15 * 60_000,
    frozen: [
      {
        queueId: "3F1A61A0A1",
        queueName: "deferred",
        arrivalTime: 1_795_354_370,
        sender: "a@b.tld",
        recipientDomains: ["c.tld"],
      },
    ],
    command: "postsuper -h - deferred  (1 queue ID on stdin)",
    ...over,
  };
}

/**
 * The pending request `match` picks, once its approval card is posted (it has a message ts), read
 * from the store until `withinMs` (a deadline from the config under test: requestCardWithinMs).
 * `explain` adds to a miss what the test knows (what was asked, what the bot answered instead).
 */
export async function postedRequest(
  approvals: Pick<ApprovalRepo, "pending">,
  match: (r: ApprovalRequest) => boolean,
  withinMs: number,
  explain: () => string | Promise<string> = () => "",
): Promise<ApprovalRequest> {
  const posted = async () => (await approvals.pending()).find((x) => x.messageTs && match(x));
  try {
    return await waitFor("an approval request's card", posted, withinMs);
  } catch (e) {
    const detail = await explain();
    throw new Error(`${e instanceof Error ? e.message : String(e)}${detail ? `: ${detail}` : ""}`);
  }
}
