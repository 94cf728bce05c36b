import { StringDecoder } from "node:string_decoder";

export interface LineSplitter {
  push(chunk: Buffer | string): void;
  /** Flushes a last line without a newline. */
  end(): void;
}

/** Splits a byte stream into lines as it arrives; holds at most one partial line. */
export function createLineSplitter(onLine: (line: string) => void, maxLineBytes = 1 << 20): LineSplitter {
  const decoder = new StringDecoder("utf8");
  let rest = "";
  const emit = (text: string) => {
    let start = 0;
    for (let nl = text.indexOf("\n", start); nl !== -1; nl = text.indexOf("\n", start)) {
      const line = text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl);
      onLine(line);
      start = nl + 1;
    }
    rest = text.slice(start);
    // A runaway line (no newline) must not grow memory without bound.
    if (rest.length > maxLineBytes) rest = rest.slice(0, maxLineBytes);
  };
  return {
    push(chunk) {
      const text = typeof chunk === "string" ? chunk : decoder.write(chunk);
      emit(rest + text);
    },
    end() {
      const tail = rest + decoder.end();
      rest = "";
      if (tail.length > 0) onLine(tail);
    },
  };
}
