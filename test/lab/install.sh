#!/usr/bin/env bash
# Installs what the relay lab needs from Debian, without starting any service.
# Idempotent: a fast no-op when everything is already installed.
set -euo pipefail

PKGS=(postfix openssh-server openssh-client dnsmasq-base bind9-dnsutils netcat-openbsd procps sudo)

if [[ $(id -u) -ne 0 ]]; then
  echo "install.sh: must run as root" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "relay lab: all packages present (${PKGS[*]})"
  exit 0
fi

echo "relay lab: installing ${missing[*]}"

# Keep maintainer scripts from starting services: policy-rc.d exiting 101 means "action forbidden".
# An existing policy-rc.d (Docker images ship one) is put back afterwards.
POLICY=/usr/sbin/policy-rc.d
BACKUP=""
if [[ -e $POLICY ]]; then
  BACKUP=$(mktemp /usr/sbin/policy-rc.d.lab-backup.XXXXXX)
  cp -p "$POLICY" "$BACKUP"
fi
restore_policy() {
  if [[ -n $BACKUP ]]; then
    mv -f "$BACKUP" "$POLICY"
  else
    rm -f "$POLICY"
  fi
}
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' >"$POLICY"
chmod 755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
# "No configuration" leaves /etc/postfix/main.cf alone (the lab runs its own instances).
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string lab.test" | debconf-set-selections

apt-get update -qq
apt-get install -y -q --no-install-recommends "${missing[@]}"

echo "relay lab: installed ${missing[*]}"
