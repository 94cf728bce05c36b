#!/usr/bin/env bash
# Installs what the relay lab needs from Debian, without starting any service.
# Idempotent: a fast no-op when everything is already installed.
set -euo pipefail
if [[ $(id -u) -eq 0 ]]; then
  # "No configuration" leaves /etc/postfix/main.cf alone (the lab runs its own instances).
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  echo "postfix postfix/mailname string lab.test" | debconf-set-selections
fi
exec bash "$(dirname "$0")/../apt-install.sh" "relay lab" \
  postfix openssh-server openssh-client dnsmasq-base bind9-dnsutils netcat-openbsd procps sudo openssl
