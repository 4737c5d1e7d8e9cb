#!/usr/bin/env bash
# Runs the whole test suite against the local PostgreSQL (started if needed).
# Extra arguments go to `dotnet test`, e.g. scripts/test.sh --filter Clip
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
scripts/db.sh start >/dev/null
# The gallery page's browser tests drive Debian's Chromium (installed once; they skip, saying so, without it).
scripts/install-browser.sh || echo "test.sh: warning: could not install Chromium; the browser tests will be skipped" >&2
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
