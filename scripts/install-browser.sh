#!/usr/bin/env bash
# Installs Debian's Chromium for the gallery page's browser tests (Playwright drives it by executable path,
# so Playwright's own browser download is never needed). Idempotent: does nothing when it is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
else
  sudo=""
fi
# Bounded: a stuck mirror must not hang CI; the browser tests skip (and say why) when Chromium is missing.
timeout 900 $sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive timeout 900 $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
