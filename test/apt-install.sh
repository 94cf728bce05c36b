#!/usr/bin/env bash
# Installs the named Debian packages that are missing, without letting their maintainer
# scripts start any service (the tests start their own, on 127.0.0.1). Needs root.
#   bash test/apt-install.sh LABEL PKG...
set -euo pipefail
label=$1
shift

missing=()
for p in "$@"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$label: all packages present ($*)"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "$label: ${missing[*]} missing; run as root (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "$label: installing ${missing[*]}"

# policy-rc.d exiting 101 means "action forbidden"; an existing one (Docker images ship
# one) is put back afterwards.
POLICY=/usr/sbin/policy-rc.d
BACKUP=""
if [[ -e $POLICY ]]; then
  BACKUP=$(mktemp /usr/sbin/policy-rc.d.backup.XXXXXX)
  cp -p "$POLICY" "$BACKUP"
fi
restore_policy() {
  if [[ -n $BACKUP ]]; then mv -f "$BACKUP" "$POLICY"; else rm -f "$POLICY"; fi
}
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' >"$POLICY"
chmod 755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "$label: installed ${missing[*]}"
