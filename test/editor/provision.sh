#!/usr/bin/env bash
# What the editor tests need besides npm's devDependencies (playwright-core): Debian's Chromium.
# Idempotent; needs root (apt) the first time.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
[ "$(id -u)" = 0 ] || { echo "editor tests: apt-get install chromium needs root (or install it by hand)" >&2; exit 1; }
echo "editor tests: installing chromium (apt)"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends chromium >/dev/null ||
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
