#!/usr/bin/env bash
# Installs the Debian packages the benchmark needs (GNU time for wall/CPU/peak RSS, pflogsumm
# for the log comparison) plus the relay lab's, without starting any service. Idempotent.
#   bash bench/install.sh
set -euo pipefail
here=$(dirname "$0")
bash "$here/../test/lab/install.sh"
exec bash "$here/../test/apt-install.sh" "bench" time pflogsumm
