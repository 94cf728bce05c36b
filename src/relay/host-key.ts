import { createHash } from "node:crypto";

/** The "SHA256:…" form `ssh-keygen -lf` prints for a raw public key blob. */
export function sha256Fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}
