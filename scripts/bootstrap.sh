#!/usr/bin/env sh
# Installs the npm packages when they are missing or older than the lock file, so that
# `npm start` and `npm test` work on a fresh clone.
set -eu
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm packages" >&2
  # The lock lists only the Linux builds of Biome (the registry here has no others), so npm ci
  # passes here and in the Docker build; on another platform npm install adds that one's build.
  npm ci --no-audit --no-fund >&2 || npm install --no-audit --no-fund >&2
fi
