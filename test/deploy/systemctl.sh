#!/bin/sh
# Stands in for systemctl in the runbook test (this machine has no systemd). `enable --now UNIT`
# starts the installed unit the way its file says: ExecStart as User=, in WorkingDirectory=, with
# EnvironmentFile= and Environment=, and STATE_DIRECTORY for StateDirectory=; the paths the unit
# names under /etc and /var/lib are taken under $DESTDIR. `stop UNIT` stops it; the rest is a no-op.
set -eu
unit_file() { echo "$DESTDIR/etc/systemd/system/$1.service"; }
value() { sed -n "s/^$1=//p" "$2" | tail -n 1; }
under() { printf '%s' "$1" | sed -e "s#/etc/#$DESTDIR/etc/#g" -e "s#/var/lib/#$DESTDIR/var/lib/#g"; }
pidfile() { echo "$DESTDIR/run-$1.pid"; }
case "$*" in
daemon-reload) exit 0 ;;
"enable --now "*)
  name=$3
  f=$(unit_file "$name")
  [ -f "$f" ] || { echo "systemctl: unit $name not found" >&2; exit 5; }
  user=$(value User "$f")
  envfile=$(under "$(value EnvironmentFile "$f")")
  environment=$(under "$(value Environment "$f")")
  state=$DESTDIR/var/lib/$(value StateDirectory "$f")
  wd=$(under "$(value WorkingDirectory "$f")")
  set -- $(value ExecStart "$f")
  node=$1
  shift
  cd "$wd"
  # shellcheck disable=SC2086
  setsid runuser -u "$user" -- env -i PATH=/usr/bin:/bin $environment STATE_DIRECTORY="$state" \
    "$node" --env-file="$envfile" "$@" >"$DESTDIR/run-$name.log" 2>&1 </dev/null &
  echo $! >"$(pidfile "$name")"
  ;;
"stop "*)
  p=$(pidfile "$2")
  # setsid made the unit's process a group of its own: stop all of it.
  [ -f "$p" ] && { kill -TERM -- "-$(cat "$p")" 2>/dev/null || kill "$(cat "$p")" 2>/dev/null || true; }
  ;;
*) echo "systemctl (runbook test): $* ignored" >&2 ;;
esac
