#!/usr/bin/env bash
# Runs the whole test suite, first installing what it needs when something is missing (when nothing is, that
# check adds a few seconds). Extra arguments go to `dotnet test`, e.g. scripts/test.sh --filter Clip
# The tests use the local cluster of scripts/db.sh, or the server named by DBFIRST_TEST_CONNECTION.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

# What the tests need, each step quick when already done; anything more the tests need is installed here too.
install_test_needs() {
  # PostgreSQL, plpython3u and the pinned pgvector.
  scripts/ensure-setup.sh
  # The local cluster and its credentials, unless the tests are pointed at another server.
  if [ -z "${DBFIRST_TEST_CONNECTION:-}" ]; then
    scripts/db.sh start >/dev/null
  fi
  # The gallery page's browser tests drive Debian's Chromium (they skip, saying so, without it).
  scripts/install-browser.sh || echo "test.sh: warning: could not install Chromium; the browser tests will be skipped" >&2
  # Real photos from Debian's python3-skimage; the tests that use them skip, saying why, without them.
  if [ ! -f data/samples/photos/chelsea.png ]; then
    scripts/sample-photos.sh >/dev/null || echo "test.sh: sample photos unavailable; the real-photo tests will skip" >&2
  fi
}

install_test_needs
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dotnet test DbFirst.sln -c Release -nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line that any CI reader understands.
summary="$(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" | tail -n 1 || true)"
if [ -n "$summary" ]; then
  failed="$(sed -E 's/Failed: +([0-9]+).*/\1/' <<<"$summary")"
  passed="$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")"
  skipped="$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summary")"
  echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
fi
exit "$status"
