/**
 * The argv of every command that changes a queue or reads a queued message. The relay owns
 * them: use cases say what to do (an operation and queue IDs) and show these same argvs on
 * the approval card, so what was shown is what runs.
 */

/** What postsuper can do to queued mail; retry is `postqueue -i`, one ID at a time. */
export type QueueOperation = "hold" | "release" | "requeue" | "delete";

export const POSTSUPER_FLAG: Record<QueueOperation, "-h" | "-H" | "-r" | "-d"> = {
  hold: "-h",
  release: "-H",
  requeue: "-r",
  delete: "-d",
};

export const isQueueOperation = (s: string): s is QueueOperation => Object.hasOwn(POSTSUPER_FLAG, s);

/** What needs root runs through `sudo -n` (never a password prompt) when the relay says so. */
export const withSudo = (sudo: boolean, argv: string[]): string[] => (sudo ? ["sudo", "-n", ...argv] : argv);

/** `postsuper <flag> - <queue>`: the IDs go on stdin, never in the argv. */
export const postsuperArgv = (op: QueueOperation, queue: string, sudo: boolean): string[] =>
  withSudo(sudo, ["postsuper", POSTSUPER_FLAG[op], "-", queue]);
export const postcatArgv = (id: string, sudo: boolean): string[] => withSudo(sudo, ["postcat", "-q", id]);
export const retryArgv = (id: string): string[] => ["postqueue", "-i", id];
/** Re-injection through the relay's own submission path, the message on stdin ("<>": the null sender). */
export const sendmailArgv = (sender: string, recipients: string[]): string[] => [
  "sendmail",
  "-G",
  "-i",
  "-f",
  sender || "<>",
  "--",
  ...recipients,
];
