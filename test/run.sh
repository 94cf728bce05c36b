#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need — npm packages and,
# as root, the relay lab's Debian packages (Postfix, OpenSSH, dnsmasq) and PostgreSQL — then type-checks,
# lints, checks the import rules and runs every test, unit and integration.
#
# Work that does not wait on other work runs beside it, so a fresh two-core machine is not idle
# while one step waits on the network or a single thread: the Debian packages install beside npm
# ci, and the static checks run beside the tests, their output printed when the tests are done.
set -euo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
# An interrupted run leaves no install or check running behind it.
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$logs"' EXIT

(bash test/lab/install.sh && bash test/db/install-postgres.sh) >"$logs/debian" 2>&1 &
debian=$!
sh scripts/bootstrap.sh
if ! wait "$debian"; then
  cat "$logs/debian" >&2
  echo "test/run.sh: installing the Debian packages failed (above); nothing was tested" >&2
  exit 1
fi
cat "$logs/debian"

# Each check runs even if one before it failed, so one run names every problem.
static_checks() {
  local failed=0
  npx tsc -p tsconfig.test.json || failed=1
  npx biome check . || failed=1
  # The architecture: no import cycles, the pure core does no I/O, only relay/ speaks SSH, only slack/ knows Slack.
  npm run --silent arch || failed=1
  return "$failed"
}
static_checks >"$logs/static" 2>&1 &
static=$!

rc=0
npx vitest run "$@" || rc=$?
echo "== type check (tsc), lint (Biome), import rules (dependency-cruiser)"
static_rc=0
wait "$static" || static_rc=$?
cat "$logs/static"
if [[ $static_rc -ne 0 ]]; then
  echo "test/run.sh: the type check, the lint or the import rules failed (above)" >&2
  rc=1
fi
exit "$rc"
