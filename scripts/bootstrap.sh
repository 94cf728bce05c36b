#!/usr/bin/env sh
# Installs the npm packages when they are missing or older than the lock file, so that
# `npm start` and `npm test` work on a fresh clone.
set -eu
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm packages" >&2
  # The lock lists only the Linux builds of Biome (the registry here has no others), so npm ci
  # passes here and in the Docker build; on another platform npm install adds that one's build.
  # With no prebuilt binary reachable, better-sqlite3 compiles SQLite from source: at its own -O3
  # about 100 s of one core, most of a fresh `npm test`'s install; at -O1 about 40 s. The store runs
  # a few statements per command, so nothing here notices. (Production installs, deploy/Dockerfile
  # and deploy/RUNBOOK.md, run npm ci themselves and keep -O3.) A CFLAGS of your own wins.
  export CFLAGS="${CFLAGS:--O1}"
  # node-gyp compiles an addon's files one at a time unless told otherwise.
  export JOBS="${JOBS:-max}"
  npm ci --no-audit --no-fund >&2 || npm install --no-audit --no-fund >&2
fi
