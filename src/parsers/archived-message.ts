/**
 * An archived `postcat -q` copy (src/archive/archive.ts) back into what re-injection needs: the
 * envelope sender, every recipient still pending when it was archived, and the message itself
 * (the MESSAGE CONTENTS section, byte for byte). Works on bytes (latin1 is one byte per char),
 * so an 8-bit body comes back unchanged.
 */
export interface ArchivedEnvelope {
  queueId: string;
  /** "" for the null sender. */
  sender: string;
  recipients: string[];
  content: Buffer;
}

const marker = (name: string) =>
  new RegExp(`^\\*\\*\\* ${name} [a-z]+(?:/[0-9A-Za-z])*/([0-9A-Za-z]+) \\*\\*\\*$`, "m");

export function parseArchivedMessage(file: Buffer): ArchivedEnvelope | string {
  const text = file.toString("latin1");
  const env = marker("ENVELOPE RECORDS").exec(text);
  const contents = marker("MESSAGE CONTENTS").exec(text);
  if (!env || !contents) return "not a postcat copy: a section marker is missing";
  const queueId = env[1] as string;
  const start = contents.index + contents[0].length + 1;
  // The last markers: a message body may quote a postcat marker line of its own.
  const extracted = text.lastIndexOf(`\n*** HEADER EXTRACTED `);
  const end = text.lastIndexOf(`\n*** MESSAGE FILE END `);
  if (end < 0) return "the copy is not whole: no MESSAGE FILE END marker";
  const contentEnd = extracted > start ? extracted + 1 : end + 1;
  let sender: string | undefined;
  const recipients: string[] = [];
  const records = (from: number, to: number) => {
    for (const line of text.slice(from, to).split("\n")) {
      const m = /^(sender|recipient): ?(.*)$/.exec(line.replace(/\r$/, ""));
      if (!m) continue;
      if (m[1] === "sender") sender ??= (m[2] as string).trim();
      else recipients.push((m[2] as string).trim());
    }
  };
  records(env.index, contents.index);
  if (extracted > start) records(extracted, end);
  if (sender === undefined) return "the envelope has no sender record";
  if (!recipients.length) return "the envelope has no pending recipient";
  return { queueId, sender, recipients: [...new Set(recipients)], content: file.subarray(start, contentEnd) };
}
