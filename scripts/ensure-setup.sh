#!/usr/bin/env bash
# Installs what DbFirst needs when something is missing, and returns within a couple of seconds when nothing is:
# what scripts/demo.sh and scripts/test.sh run first, so a fresh clone needs no other command.
# scripts/setup.sh does the work (PostgreSQL, the pinned pgvector); it checks each step itself, so no second list of
# what "installed" means lives here to drift from it. The build is left to the caller: `dotnet test` and
# scripts/dbfirst build what changed.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! command -v dotnet >/dev/null; then
  echo "ensure-setup: the .NET 10 SDK is not installed (dotnet not on PATH): see https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
  exit 1
fi

DBFIRST_SKIP_BUILD=1 "$repo/scripts/setup.sh"
