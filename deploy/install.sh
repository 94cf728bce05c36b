#!/bin/sh
# Installs mailq-bot on the bot host from this checkout (built first: npm ci && npm run build), as
# root. Idempotent: files an operator edits are created once and then left alone.
#   deploy/install.sh
# - the user (MAILQ_USER, default mailq-bot) and its state directory /var/lib/mailq-bot (0700);
# - /etc/mailq-bot/mailq.yaml (from deploy/mailq.example.yaml), env (from .env.sample, 0600)
#   and the bot's SSH key id_ed25519 (0600) with id_ed25519.pub for the relays;
# - the systemd unit, running this checkout's build;
# - /usr/local/bin/mailq-bot: the CLI as the service sees things (its user, env file, config).
# DESTDIR puts every file under another root (the runbook test does).
set -eu
app=$(cd "$(dirname "$0")/.." && pwd)
user=${MAILQ_USER:-mailq-bot}
root=${DESTDIR:-}
etc=$root/etc/mailq-bot
state=$root/var/lib/mailq-bot
die() { echo "install.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root"
case "$user" in "" | *[!a-z0-9_-]*) die "MAILQ_USER takes a-z, 0-9, _ and -" ;; esac
node=$(command -v node) || die "node (>= 20.19) is not installed"
"$node" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  die "node $("$node" --version) is too old: mailq-bot needs 20.19 or later"
[ -f "$app/dist/cli.js" ] || die "build first: cd $app && npm ci && npm run build"

if ! id -u "$user" >/dev/null 2>&1; then
  useradd --system --user-group --home-dir /var/lib/mailq-bot --no-create-home --shell /usr/sbin/nologin \
    --comment "mailq-bot" "$user"
fi
group=$(id -gn "$user")
install -d -m 0700 -o "$user" -g "$group" "$state"
install -d -m 0750 -o root -g "$group" "$etc"
[ -e "$etc/mailq.yaml" ] || install -m 0640 -o root -g "$group" "$app/deploy/mailq.example.yaml" "$etc/mailq.yaml"
[ -e "$etc/env" ] || install -m 0600 -o "$user" -g "$group" "$app/.env.sample" "$etc/env"
if [ ! -e "$etc/id_ed25519" ]; then
  ssh-keygen -q -t ed25519 -N '' -C "mailq-bot@$(hostname)" -f "$etc/id_ed25519"
  chown "$user:$group" "$etc/id_ed25519" "$etc/id_ed25519.pub"
  chmod 0600 "$etc/id_ed25519"
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
sed -e "s#^User=.*#User=$user#" -e "s#^Group=.*#Group=$group#" \
  -e "s#^ExecStart=.*#ExecStart=$node $app/dist/cli.js serve#" "$app/deploy/mailq-bot.service" >"$tmp"
install -D -m 0644 "$tmp" "$root/etc/systemd/system/mailq-bot.service"

# The CLI as the service runs: as root it drops to the bot's user, so doctor checks what the bot may do.
cat >"$tmp" <<WRAPPER
#!/bin/sh
# mailq-bot, as the service sees things (written by deploy/install.sh).
export MAILQ_CONFIG="\${MAILQ_CONFIG:-$etc/mailq.yaml}" STATE_DIRECTORY="\${STATE_DIRECTORY:-$state}"
export NODE_OPTIONS="\${NODE_OPTIONS:---max-semi-space-size=4}"
if [ "\$(id -u)" = 0 ]; then
  exec runuser -u $user -- $node --env-file=$etc/env $app/dist/cli.js "\$@"
fi
[ -r $etc/env ] && exec $node --env-file=$etc/env $app/dist/cli.js "\$@"
exec $node $app/dist/cli.js "\$@"
WRAPPER
install -D -m 0755 "$tmp" "$root/usr/local/bin/mailq-bot"
[ -z "$root" ] && command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload

echo "mailq-bot installed for user $user. Next (deploy/RUNBOOK.md):"
echo "  - on each relay: deploy/relay/install.sh with this public key: $(cat "$etc/id_ed25519.pub")"
echo "  - edit $etc/mailq.yaml (relays, access, slack.channels) and $etc/env (Slack tokens)"
exit 0
