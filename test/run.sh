#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need — npm packages and,
# as root, the relay lab's Debian packages (Postfix, OpenSSH, dnsmasq) and PostgreSQL — then type-checks,
# lints, checks the import rules and runs every test, unit and integration.
set -euo pipefail
cd "$(dirname "$0")/.."
sh scripts/bootstrap.sh
bash test/lab/install.sh
bash test/db/install-postgres.sh
npx tsc -p tsconfig.test.json
npx biome check .
# The architecture: no import cycles, the pure core does no I/O, only relay/ speaks SSH, only slack/ knows Slack.
npm run --silent arch
npx vitest run "$@"
