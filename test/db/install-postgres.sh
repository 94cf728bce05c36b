#!/usr/bin/env bash
# Installs PostgreSQL from Debian for the store tests (test/db/postgres-setup.ts), without
# starting the system service: the tests run their own throwaway cluster on 127.0.0.1.
set -euo pipefail
bash "$(dirname "$0")/../apt-install.sh" postgres postgresql postgresql-client
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || {
  echo "install-postgres.sh: postgresql is installed but there is no /usr/lib/postgresql/*/bin/initdb" >&2
  exit 1
}
