#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need — npm packages and,
# as root, the relay lab's Debian packages (Postfix, OpenSSH, dnsmasq) and PostgreSQL — then type-checks,
# lints, checks the import rules and runs every test, unit and integration.
#
# MAILQ_CI_BURNERS=N (.ci/run sets 2) runs the tests beside N CPU-burning processes, so that a test
# that passes only on a quiet machine fails there first. The burners start with the tests: an install
# or a type check slowed by them tests nothing, it only made CI's run 1-2 minutes longer.
set -euo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
# An interrupted run leaves no install or burner running behind it.
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$logs"' EXIT

# The Debian packages wait on apt, npm ci on the registry and a compiler: side by side.
(bash test/lab/install.sh && bash test/db/install-postgres.sh) >"$logs/debian" 2>&1 &
debian=$!
sh scripts/bootstrap.sh
if ! wait "$debian"; then
  cat "$logs/debian" >&2
  echo "test/run.sh: installing the Debian packages failed (above); nothing was tested" >&2
  exit 1
fi
cat "$logs/debian"

npx tsc -p tsconfig.test.json
npx biome check .
# The architecture: no import cycles, the pure core does no I/O, only relay/ speaks SSH, only slack/ knows Slack.
npm run --silent arch

burners=()
for _ in $(seq 1 "${MAILQ_CI_BURNERS:-0}"); do
  bash -c 'while :; do :; done' &
  burners+=("$!")
done
if [[ ${#burners[@]} -gt 0 ]]; then echo "test/run.sh: ${#burners[@]} CPU burners beside the tests (pids ${burners[*]})"; fi
npx vitest run "$@"
