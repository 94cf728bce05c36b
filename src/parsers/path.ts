/**
 * A path a relay reported (postconf's queue_directory, smtpd_tls_cert_file) as it may reach an
 * argv: absolute, of plain characters, and never with "..". Pure, like the host guards.
 */
export const isPlainAbsolutePath = (p: string): boolean =>
  /^\/[A-Za-z0-9._/-]{1,255}$/.test(p) && !p.includes("..");
