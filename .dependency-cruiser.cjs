/**
 * The architecture check (`npm run arch`): imports point down, and I/O stays at the edges.
 * every room imports only the rooms below it (LAYERS); only src/relay runs commands over SSH,
 * only src/slack knows Slack's SDK.
 */
const NODE_IO = "^(node:)?(fs|fs/promises|child_process|net)$";
const DRIVERS = "^node_modules/(ssh2|node-ssh|pg|better-sqlite3|@slack/[^/]+)/";
const IO_ROOMS = "^src/(relay|slack)/|^src/store/(sqlite|postgres)/|^src/store/open\\.ts$";

/** The rooms from the bottom up (README "Layout"): a room imports only rooms listed before it. */
const LAYERS = [
  "^src/util/",
  "^src/(config|env-file|errors)\\.ts$",
  "^src/log/",
  "^src/parsers/",
  "^src/analysis/",
  "^src/json/",
  "^src/relay/",
  "^src/store/",
  "^src/archive/",
  "^src/metrics/",
  "^src/cards/",
  "^src/chat/port\\.ts$",
  "^src/watch/",
  "^src/changes/",
  "^src/usecases/",
  "^src/chat/command\\.ts$",
  "^src/slack/",
  "^commands/",
  "^src/(doctor/|doctor\\.ts$)",
  "^src/(cli|cli-args|cli-io|serve)\\.ts$",
];
const pointsDown = LAYERS.slice(0, -1).map((room, i) => ({
  name: "imports-point-down",
  severity: "error",
  comment: `${room} imports a room above it (README "Layout"); move what both need down.`,
  from: { path: room },
  to: { path: LAYERS.slice(i + 1) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...pointsDown,
    {
      name: "no-circular",
      severity: "error",
      comment: "An import cycle: one of the two modules belongs lower; move what both need down.",
      from: {},
      to: { circular: true },
    },
    {
      name: "pure-core-no-io",
      severity: "error",
      comment:
        "src/parsers, src/analysis and src/cards are pure (text in, data or cards out): no files, " +
        "processes, sockets, drivers, Slack, relay or store implementations. Pass what they need in.",
      from: { path: "^src/(parsers|analysis|cards)/" },
      to: { path: [NODE_IO, DRIVERS, IO_ROOMS] },
    },
    {
      name: "only-relay-speaks-ssh",
      severity: "error",
      comment: "Only src/relay runs commands on relays: go through its runner.",
      from: { pathNot: "^src/relay/" },
      to: { path: "^node_modules/(ssh2|node-ssh)/" },
    },
    {
      name: "only-slack-knows-slack",
      severity: "error",
      comment: "Only src/slack knows Slack's SDK: go through the chat port.",
      from: { pathNot: "^src/slack/" },
      to: { path: "^node_modules/@slack/" },
    },
    {
      name: "status-schema-stays-out",
      severity: "error",
      comment:
        "The status document's zod schema is for tests and `npm run schema`: building it would cost " +
        "every status run's start-up for a document the bot never validates.",
      from: { path: "^(src|commands)/", pathNot: "^src/json/status-document-schema\\.ts$" },
      to: { path: "^src/json/status-document-schema\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports count: a cycle through a type is still a cycle in the design.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
