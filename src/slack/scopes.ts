/** The bot token's scopes and why each is needed; deploy/slack-app-manifest*.yaml list exactly these. */
export const BOT_SCOPES: Record<string, string> = {
  commands: "/mailq",
  "chat:write": "status cards, approval cards, progress updates",
  "files:write": "the queue-depth chart in watch threads",
  "usergroups:read": "approvers given as user groups (S…)",
  "channels:read": "mailq-bot doctor: is the bot in each public channel of slack.channels",
  "groups:read": "mailq-bot doctor: is the bot in each private channel of slack.channels",
};
