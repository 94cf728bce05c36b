import { describe, expect, it } from "vitest";
import { isPlainAbsolutePath } from "../../src/parsers/path.js";

describe("isPlainAbsolutePath", () => {
  it.each(["/var/spool/postfix", "/etc/ssl/certs/ssl-cert-snakeoil.pem", "/srv/postfix-out/spool_2"])(
    "lets %s through",
    (p) => expect(isPlainAbsolutePath(p)).toBe(true),
  );
  it.each([
    ["a relative path", "spool/postfix"],
    ["a path climbing out", "/var/spool/../../etc"],
    ["two dots anywhere", "/var/spool/postfix..old"],
    ["shell syntax", "/var/spool/postfix;rm"],
    ["a space", "/var/spool/post fix"],
    ["a newline", "/var/spool/postfix\n"],
    ["an empty string", ""],
    ["more than 256 characters", `/${"a".repeat(256)}`],
  ])("refuses %s", (_label, p) => expect(isPlainAbsolutePath(p)).toBe(false));
});
