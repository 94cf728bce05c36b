#!/bin/sh
# Sets up a relay for mailq-bot, as root. Idempotent: run it again after an update.
#   deploy/relay/install.sh BOT_KEY.pub
# - the user (MAILQ_RELAY_USER, default mailqbot): no password, key login only;
# - ~user/.ssh/authorized_keys: the bot's key, allowed to run only the gate:
#     restrict,command="/usr/local/lib/mailq-bot/mailq-bot-gate" ssh-ed25519 AAAA… mailq-bot
# - the gate (deploy/relay/mailq-bot-gate, as given), its log /var/log/mailq-bot-gate.log and its
#   state /var/lib/mailq-bot-gate (root:<user's group> 0770: what it served whole, so that it can
#   refuse a delete of anything not read out first);
# - the sudoers drop-in from deploy/relay/render-sudoers (as given; SUDOERS_FILE, default
#   /etc/sudoers.d/mailq-bot, no "." in the name), installed only once visudo -cf accepts it;
# then prints this host's key fingerprint, for hostKeyFingerprint in the bot's mailq.yaml.
# DESTDIR puts the gate, its log and its state under another root (the runbook test does).
# MAIL_CONFIG, when set, names a non-default Postfix instance: the gate is started with
# --mail-config (it passes no environment on) and sudo keeps MAIL_CONFIG for root's commands.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
user=${MAILQ_RELAY_USER:-mailqbot}
root=${DESTDIR:-}
sudoers=${SUDOERS_FILE:-/etc/sudoers.d/mailq-bot}
gate=$root/usr/local/lib/mailq-bot/mailq-bot-gate
log=$root/var/log/mailq-bot-gate.log
state=$root/var/lib/mailq-bot-gate
instance=${MAIL_CONFIG:-}
die() { echo "relay/install.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: deploy/relay/install.sh BOT_KEY.pub   (the bot host's /etc/mailq-bot/id_ed25519.pub)"
[ "$(id -u)" = 0 ] || die "run as root"
[ -r "$1" ] || die "cannot read $1"
case "$user" in "" | *[!a-z0-9_-]*) die "MAILQ_RELAY_USER takes a-z, 0-9, _ and -" ;; esac
case "$instance" in *[!A-Za-z0-9_./-]*) die "MAIL_CONFIG takes a plain directory path" ;; esac
case "$(basename "$sudoers")" in *.*) die "sudo skips files in sudoers.d whose name has a '.': $sudoers" ;; esac
# Exactly one public key line, nothing an authorized_keys option could hide in.
[ "$(grep -c . "$1")" = 1 ] || die "$1 must hold exactly one public key line"
key=$(grep -E '^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/=]+( [A-Za-z0-9@._+-]*)?$' "$1") ||
  die "$1 is not a public key line (ssh-ed25519 AAAA… comment)"
blob=$(printf '%s\n' "$key" | cut -d' ' -f2)
command -v postconf >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
command -v postconf >/dev/null 2>&1 || die "postconf not found: is Postfix installed?"

if ! id -u "$user" >/dev/null 2>&1; then
  useradd --system --create-home --shell /bin/sh --comment "mailq-bot relay probes" "$user"
fi
# No password: "*" rather than useradd's locked "!", which sshd without PAM treats as no login at all.
usermod -p '*' "$user"
group=$(id -gn "$user")
home=$(getent passwd "$user" | cut -d: -f6)

install -d -m 0755 "$(dirname "$gate")" "$(dirname "$log")"
install -m 0755 -o root -g root "$here/mailq-bot-gate" "$gate"
[ -e "$log" ] || install -m 0640 -o "$user" -g root /dev/null "$log"
install -d -m 0770 -o root -g "$group" "$state"

gateopts=""
[ -z "$root" ] || gateopts=" --log $log --state $state"
[ -z "$instance" ] || gateopts="$gateopts --mail-config $instance"
options="restrict,command=\"$gate$gateopts\""
install -d -m 0700 -o "$user" -g "$group" "$home/.ssh"
keys=$home/.ssh/authorized_keys
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# The same key again replaces its line: running twice leaves one.
if [ -f "$keys" ]; then grep -v -F " $blob" "$keys" >"$tmp" || true; fi
printf '%s %s\n' "$options" "$key" >>"$tmp"
install -m 0600 -o "$user" -g "$group" "$tmp" "$keys"

sh "$here/render-sudoers" "$user" >"$tmp"
[ -z "$instance" ] || printf 'Defaults:%s env_keep += "MAIL_CONFIG"\n' "$user" >>"$tmp"
visudo -cf "$tmp" >/dev/null || die "visudo refused the rendered sudoers; nothing was installed"
install -m 0440 -o root -g root "$tmp" "$sudoers"

echo "mailq-bot: $user may log in with the bot's key and run only $gate; sudo rules in $sudoers."
for f in /etc/ssh/ssh_host_ed25519_key.pub; do
  [ -r "$f" ] && echo "hostKeyFingerprint for mailq.yaml: $(ssh-keygen -lf "$f" | cut -d' ' -f2)"
done
exit 0
