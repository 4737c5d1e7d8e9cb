#!/usr/bin/env bash
# Browser check of the Hangfire dashboard: starts `dbfirst serve` on a loopback port against the configured database
# (ConnectionStrings__Gallery, else the local cluster of scripts/db.sh), drives headless Chromium (Debian's package,
# installed when missing) to /hangfire/recurring, checks that the recurring jobs are listed, and saves a screenshot.
# Usage: scripts/check-dashboard.sh [OUTPUT_DIR]   (default bench-results/dashboard)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo/bench-results/dashboard}"
mkdir -p "$out"

browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
  echo "check-dashboard: installing Debian's chromium..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  browser="$(command -v chromium)"
fi

port="${DASHBOARD_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
url="http://127.0.0.1:$port"
"$repo/scripts/dbfirst" migrate up >/dev/null 2>&1
"$repo/scripts/dbfirst" serve --urls "$url" >"$out/serve.log" 2>&1 &
serve=$!
profile="$(mktemp -d)"
cleanup() {
  kill -TERM "$serve" 2>/dev/null || true
  wait "$serve" 2>/dev/null || true
  rm -rf "$profile"
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  if curl -fsS "$url/health" >"$out/health.json" 2>/dev/null; then break; fi
  if ! kill -0 "$serve" 2>/dev/null; then cat "$out/serve.log" >&2; echo "check-dashboard: serve exited" >&2; exit 1; fi
  sleep 0.5
done

chrome=("$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" --window-size=1280,900)
"${chrome[@]}" --virtual-time-budget=5000 --dump-dom "$url/hangfire/recurring" >"$out/recurring.html" 2>"$out/chromium.log"
"${chrome[@]}" --virtual-time-budget=5000 --screenshot="$out/recurring.png" "$url/hangfire/recurring" >>"$out/chromium.log" 2>&1

missing=0
for job in embed-pending; do
  if ! grep -q "$job" "$out/recurring.html"; then echo "check-dashboard: recurring job $job not listed" >&2; missing=1; fi
done
if grep -qiE 'password=|Password' "$out/recurring.html"; then echo "check-dashboard: the page shows a password" >&2; missing=1; fi
[ -s "$out/recurring.png" ] || { echo "check-dashboard: no screenshot" >&2; missing=1; }
[ "$missing" = 0 ] && echo "check-dashboard: recurring jobs listed; screenshot $out/recurring.png; health $(cat "$out/health.json")"
exit "$missing"
