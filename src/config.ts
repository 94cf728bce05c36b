import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import * as z from "zod";
import { MailqError } from "./errors.js";
import { durationSchema } from "./util/duration.js";

export const RELAY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const HOST_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[?[0-9a-fA-F:.]+\]?$/;
const USER_RE = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const IP_RE =
  /^(?:(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)|(?=.*:)(?!.*:::)[0-9A-Fa-f:]{2,39})$/;
const ZONE_RE =
  /^(?=.{1,200}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

const relaySchema = z
  .object({
    name: z.string().regex(RELAY_NAME_RE, "letters, digits, '.', '_' or '-', at most 63"),
    host: z.string().regex(HOST_RE, "a host name or IP address"),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().regex(USER_RE, "a Unix user name"),
    privateKeyPath: z.string().min(1),
    hostKeyFingerprint: z
      .string()
      .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, "the SHA256:… fingerprint that `ssh-keygen -lf` prints"),
    sudo: z.boolean().default(false),
    /** The resolver triage asks (dig @resolver); the relay's own when unset. */
    resolver: z
      .string()
      .regex(IP_RE, "an IPv4 or IPv6 address (the resolver dig asks, e.g. 127.0.0.1)")
      .optional(),
    /** The addresses the relay sends from, for blocklist and reverse-DNS checks; else smtp_bind_address. */
    outboundIps: z
      .array(z.string().regex(IP_RE, "an IPv4 or IPv6 address the relay sends mail from"))
      .max(8, "at most 8 addresses")
      .optional(),
  })
  .strict();

const userOrGroupId = z
  .string()
  .regex(/^[UWS][A-Z0-9]{2,}$/, "a Slack user ID (U…, W…) or user-group ID (S…)");
const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, "a Slack channel ID (C…, G…, D…)");
const teamId = z.string().regex(/^[TE][A-Z0-9]{2,}$/, "a Slack workspace ID (T…) or Enterprise Grid ID (E…)");

const settingsShape = {
  probes: z
    .object({
      timeout: durationSchema.prefault("20s"),
      /** The full queue listing may run this long on a huge queue. */
      listingTimeout: durationSchema.prefault("10m"),
      /**
       * A listing not done by this point gives way to a partial first card (directory counts, causes
       * from the mail log) as soon as those are in; the card is then updated in place.
       */
      firstAnswerAfter: durationSchema.prefault("2s"),
      /** SSH connections open and probing at once across relays (a fleet of 50 waits its turn). */
      maxConnections: z
        .number({ error: "probes.maxConnections must be a whole number from 1 to 256" })
        .int("probes.maxConnections must be a whole number from 1 to 256")
        .min(1, "probes.maxConnections must be at least 1: with none, no relay could be probed")
        .max(
          256,
          "probes.maxConnections is at most 256: more sessions than that overload the bot, not the relays",
        )
        .default(16),
      /**
       * zlib on the SSH connection: a queue listing shrinks about 20-fold, which helps on a slow link.
       * Off by default: no gain on fast links, and ssh2 can throw an uncatchable "Invalid Zlib
       * instance" when a compressed connection is closed mid-transfer (mscdex/ssh2#1178).
       */
      compression: z.boolean().default(false),
      logLines: z.number().int().min(100).max(1_000_000).default(20_000),
    })
    .strict()
    .prefault({}),
  thresholds: z
    .object({
      diskPercent: z.number().min(1).max(100).default(90),
      inodePercent: z.number().min(1).max(100).default(90),
    })
    .strict()
    .prefault({}),
  triage: z
    .object({
      /**
       * DNS blocklist zones the relay's outbound addresses are checked against (dig A). Some
       * refuse queries from public resolvers (Spamhaus answers 127.255.255.x): triage reports
       * those as "unknown"; use your own resolver or a list's key-based zone.
       */
      blocklists: z
        .array(z.string().regex(ZONE_RE, "a DNS zone such as zen.spamhaus.org"))
        .max(10, "at most 10 zones")
        .default(["zen.spamhaus.org", "b.barracudacentral.org", "bl.spamcop.net"]),
      /** The relay's own certificate (smtpd_tls_cert_file) is a finding this many days before it expires. */
      certWarnDays: z.number().int().min(1).max(365).default(14),
    })
    .strict()
    .prefault({}),
  tickets: z
    .object({ pattern: z.string().default("^[A-Z][A-Z0-9]+-[0-9]+$") })
    .strict()
    .prefault({}),
  access: z
    .object({
      /** Who may ask for queue changes; empty: anyone the bot serves. */
      requesters: z.array(userOrGroupId).default([]),
      approvers: z.array(userOrGroupId).default([]),
      /** Who may run the read-only subcommands (status, triage, watch, audit); empty: anyone the bot serves. */
      viewers: z.array(userOrGroupId).default([]),
      /** Who may read a message's envelope (inspect); absent: the requesters and approvers named above. */
      inspectors: z.array(userOrGroupId).optional(),
      /** Where the bot answers; empty: any channel it is asked in. */
      channels: z.array(channelId).default([]),
      /** Workspaces (T…) and Enterprise Grid orgs (E…) served; empty: the bot token's own workspace. */
      teams: z.array(teamId).default([]),
    })
    .strict()
    .prefault({}),
  approvals: z
    .object({
      required: z.number().int().min(1).max(5).default(1),
      expireAfter: durationSchema.prefault("15m"),
    })
    .strict()
    .prefault({}),
  watch: z
    .object({
      interval: durationSchema.prefault("15m"),
      drainedBelow: z.number().int().min(0).default(10),
      maxDuration: durationSchema.prefault("24h"),
      /**
       * With several replicas, one holds the scheduler lease; when it dies another takes over
       * after at most this. Kept under the 1-minute minimum interval so no update is skipped.
       */
      leaseTtl: durationSchema
        .refine(
          (ms) => ms >= 1000 && ms <= 50_000,
          "between 1s and 50s (under the 1m minimum watch interval)",
        )
        .prefault("30s"),
    })
    .strict()
    .prefault({}),
  archive: z
    .object({
      path: z.string().min(1).default("./data/archive"),
      /** Archived messages older than this are removed (with an audit line) and can no longer be restored. */
      retention: durationSchema.prefault("30d"),
    })
    .strict()
    .prefault({}),
  store: z
    .object({ path: z.string().min(1).default("./data/mailq.sqlite") })
    .strict()
    .prefault({}),
  slack: z
    .object({
      /** The incident channels where /mailq is used: `mailq-bot doctor` checks the bot is in each. */
      channels: z
        .array(z.string().regex(/^[CG][A-Z0-9]{2,}$/, "a channel ID (C… or G…), from the channel's details"))
        .default([]),
      /**
       * On SIGTERM, commands already running (an approved change and its audit line among them)
       * get this long to finish before the bot exits. Keep it under the service manager's stop
       * timeout (deploy/mailq-bot.service: 90s).
       */
      shutdownGrace: durationSchema
        .refine((ms) => ms <= 300_000, "at most 5m (a stop that long holds up every deploy)")
        .prefault("60s"),
    })
    .strict()
    .prefault({}),
};

const relaysSchema = z
  .array(relaySchema)
  .min(1, "list at least one relay")
  .superRefine((relays, ctx) => {
    const seen = new Set<string>();
    relays.forEach((r, i) => {
      if (seen.has(r.name))
        ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate relay name "${r.name}"` });
      seen.add(r.name);
    });
  });

const settingsSchema = z.object(settingsShape).strict();

export const configSchema = z
  .object({ relays: relaysSchema, ...settingsShape })
  .strict()
  .superRefine((c, ctx) => {
    try {
      new RegExp(c.tickets.pattern);
    } catch {
      ctx.addIssue({
        code: "custom",
        path: ["tickets", "pattern"],
        message: "not a valid regular expression",
      });
    }
  });

export type SshRelayConfig = z.infer<typeof relaySchema> & { kind: "ssh" };
export type LocalRelayConfig = { kind: "local"; name: "local"; sudo: false };
export type RelayConfig = SshRelayConfig | LocalRelayConfig;
export type Config = Omit<z.infer<typeof configSchema>, "relays"> & {
  relays: RelayConfig[];
  /** Where the configuration came from, for messages. */
  source: string;
};

/** Every issue on its own line, with its path, so a person can fix them all in one go. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `  - ${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`)
    .join("\n");
}

/**
 * Where relative store and archive paths resolve: systemd's $STATE_DIRECTORY (StateDirectory=),
 * else /var/lib/mailq-bot for a configuration under /etc (a service), else the configuration's folder.
 * Never /etc itself: a service may not write there.
 */
export function stateDirectory(env: NodeJS.ProcessEnv, configDir: string): string {
  const fromSystemd = env.STATE_DIRECTORY?.split(":")[0];
  if (fromSystemd) return fromSystemd;
  return configDir === "/etc" || configDir.startsWith("/etc/") ? DEFAULT_STATE_DIRECTORY : configDir;
}
export const DEFAULT_STATE_DIRECTORY = "/var/lib/mailq-bot";

export function parseConfig(raw: unknown, source: string, baseDir: string, stateDir = baseDir): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new MailqError(
      "CONFIG_INVALID",
      `Configuration ${source} is invalid:\n${formatIssues(result.error)}`,
      {
        hint: "Fix the listed fields and start again",
      },
    );
  }
  const c = result.data;
  return {
    ...c,
    source,
    relays: c.relays.map((r) => ({
      ...r,
      kind: "ssh" as const,
      privateKeyPath: isAbsolute(r.privateKeyPath) ? r.privateKeyPath : resolve(baseDir, r.privateKeyPath),
    })),
    store: { path: resolve(stateDir, c.store.path) },
    archive: { ...c.archive, path: resolve(stateDir, c.archive.path) },
  };
}

/** The configuration used when no file exists: one relay, this machine, no SSH. */
export function localConfig(cwd: string, env: NodeJS.ProcessEnv = {}): Config {
  const c = settingsSchema.parse({});
  const state = stateDirectory(env, cwd);
  return {
    ...c,
    source: "built-in defaults (no configuration file: probing this machine)",
    relays: [{ kind: "local", name: "local", sudo: false }],
    store: { path: resolve(state, c.store.path) },
    archive: { ...c.archive, path: resolve(state, c.archive.path) },
  };
}

/** `--config FILE`, else `$MAILQ_CONFIG`, else `./mailq.yaml`, else the local relay. */
export function loadConfig(opts: { file?: string; env: NodeJS.ProcessEnv; cwd: string }): Config {
  const explicit = opts.file ?? (opts.env.MAILQ_CONFIG || undefined);
  const path = resolve(opts.cwd, explicit ?? "mailq.yaml");
  if (!existsSync(path)) {
    if (explicit !== undefined) {
      throw new MailqError("CONFIG_NOT_FOUND", `Configuration file ${path} does not exist`, {
        hint: "Pass an existing file with --config or MAILQ_CONFIG, or remove the option to probe this machine",
      });
    }
    return localConfig(opts.cwd, opts.env);
  }
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, "utf8"));
  } catch (e) {
    throw new MailqError(
      "CONFIG_INVALID",
      `Configuration ${path} is not valid YAML: ${(e as Error).message}`,
      {
        hint: "Fix the YAML syntax and start again",
      },
    );
  }
  return parseConfig(raw, path, dirname(path), stateDirectory(opts.env, dirname(path)));
}

/** `NAME=` in an env file means "not set", the usual way to switch something off there. */
export function withoutEmpty(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
}

const envSchema = z.object({
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-[A-Za-z0-9-]+$/, "a bot token starting with xoxb-"),
  SLACK_SIGNING_SECRET: z.string().min(8, "the app's signing secret").optional(),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-[A-Za-z0-9-]+$/, "an app-level token starting with xapp-")
    .optional(),
  SLACK_API_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** HTTP mode: the request URL Slack calls; only `mailq-bot doctor` uses it, to check it answers. */
  SLACK_REQUEST_URL: z.url({ protocol: /^https?$/ }).optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
});
export type SlackEnv = z.infer<typeof envSchema>;

/** Slack secrets come from the environment only. */
export function parseSlackEnv(env: NodeJS.ProcessEnv): SlackEnv {
  const r = envSchema.safeParse(withoutEmpty(env));
  if (!r.success) {
    throw new MailqError("CONFIG_INVALID", `Slack environment is invalid:\n${formatIssues(r.error)}`, {
      hint: "Set the variables listed (see .env.sample) and start again",
    });
  }
  if (!r.data.SLACK_APP_TOKEN && !r.data.SLACK_SIGNING_SECRET) {
    throw new MailqError(
      "CONFIG_INVALID",
      "Slack environment is invalid:\n  - SLACK_SIGNING_SECRET: required for HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)",
      { hint: "Set the variables listed and start again" },
    );
  }
  return r.data;
}
