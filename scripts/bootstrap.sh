#!/usr/bin/env sh
# Installs the npm packages when they are missing or older than the lock file, so that
# `npm start` and `npm test` work on a fresh clone.
set -eu
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm packages" >&2
  # npm ci refuses a lock file without other platforms' optional packages, which some
  # registries leave out; npm install keeps to the same locked versions.
  npm ci --no-audit --no-fund >&2 || npm install --no-audit --no-fund >&2
fi
