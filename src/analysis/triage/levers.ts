import type { FindingClass } from "./types.js";

/** Per class, the safe lever and what not to do: the choices that keep queued mail from being lost. */
export const LEVERS: Record<FindingClass, string> = {
  dns: "Do not flush: DNS lookups fail, and a flush only multiplies failing lookups. Fix the resolver (its upstream, the network path, a local cache) first, then requeue gradually.",
  network:
    "Do not flush or delete: the relay cannot connect. Escalate to network/firewall (egress on port 25, routing); if outbound 25 is blocked by policy, use an approved relayhost. Then test one message (postqueue -i ID) before requeueing.",
  "remote-throttling":
    "Do not flush: the remote side is asking you to back off. Lower the per-destination concurrency for it (smtp_destination_concurrency_limit, or a transport of its own) and let the backoff drain it.",
  policy:
    "Do not flush: the remote side refuses on policy or reputation, and retrying harder makes it worse. Read the provider's reason: fix authentication (SPF, DKIM, DMARC, PTR) or the source of complaints, check block lists and the provider's postmaster tools, ask for delisting; slow down meanwhile.",
  recipient:
    "Nothing to change on the relay: single mailboxes are full, disabled or unknown. Do not flush or delete; the retries go on until the messages bounce, so tell the senders or recipients if it matters.",
  "local-service":
    "The milter is down: restore it; do not delete. Start the milter/policy/content-filter service (or disable it only if policy allows), then replay one message to confirm.",
  storage:
    "Free space or inodes safely (logs, caches) or grow the spool's filesystem. Do not run cleanup scripts that rm queue files.",
  config:
    "Fix Postfix's own configuration first (master.cf, main.cf; the log says why) before touching the queue contents. Do not restart repeatedly.",
  corruption:
    "Stop the urge to clean up: preserve the spool, check the filesystem's health, and only once storage is stable requeue (postsuper -r). Do not delete queue files.",
  reputation:
    "Request delisting from each list that names the address (its lookup page gives the reason and the removal form), after fixing what got you listed (a compromised account, an app in a loop, open relaying). Do not requeue ALL into the listing: every retry to a provider that checks it is refused again and deepens the listing. Hold the affected mail or let the backoff carry it; requeue only once delisted.",
  tls: "Renew the relay's certificate (smtpd_tls_cert_file) before clients refuse it, then postfix reload. Do not disable TLS to work around it.",
  "bounce-storm":
    "Find the source first: a bounce storm is a sender problem (a list never cleaned, an app sending to bad addresses, or backscatter from accepted spam to forged senders). Stop accepting what you cannot deliver (reject unknown recipients at smtpd, content filtering before queueing); do not requeue the bounces.",
};

/** A finding's title when nothing more specific is known. */
export const TITLES: Record<FindingClass, string> = {
  dns: "DNS lookups fail for failing destinations",
  network: "The relay cannot connect to failing destinations",
  "remote-throttling": "Remote sites throttle or greylist (4xx)",
  policy: "Remote sites refuse on policy or reputation (4xx)",
  recipient: "Recipients' mailboxes are full, disabled or unknown (4xx)",
  "local-service": "A local milter, policy or content-filter service fails",
  storage: "Deliveries fail for lack of space",
  config: "Configuration errors defer mail",
  corruption: "Postfix reports corrupt queue files",
  reputation: "The relay's sending address is on a blocklist",
  tls: "The relay's TLS certificate expires",
  "bounce-storm": "A bounce storm",
};
