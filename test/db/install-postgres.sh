#!/usr/bin/env bash
# Installs PostgreSQL from Debian for the store tests (test/db/postgres-setup.ts), without
# starting the system service: the tests run their own throwaway cluster on 127.0.0.1.
# Idempotent: a fast no-op when the server binaries are already there.
set -euo pipefail

PKGS=(postgresql postgresql-client)

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && getent passwd postgres >/dev/null; then
  echo "postgres: server binaries present ($(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' '))"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-postgres.sh: PostgreSQL is missing; run this as root (apt-get install ${PKGS[*]})" >&2
  exit 1
fi

echo "postgres: installing ${PKGS[*]}"

# Keep maintainer scripts from starting the service: policy-rc.d exiting 101 means "action
# forbidden". An existing policy-rc.d (Docker images ship one) is put back afterwards.
POLICY=/usr/sbin/policy-rc.d
BACKUP=""
if [[ -e $POLICY ]]; then
  BACKUP=$(mktemp /usr/sbin/policy-rc.d.pg-backup.XXXXXX)
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
apt-get update -qq
apt-get install -y -q --no-install-recommends "${PKGS[@]}"

compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || {
  echo "install-postgres.sh: installed ${PKGS[*]} but found no /usr/lib/postgresql/*/bin/initdb" >&2
  exit 1
}
echo "postgres: installed ${PKGS[*]}"
