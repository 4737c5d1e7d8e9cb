#!/usr/bin/env bash
# Installs what DbFirst needs on a fresh Debian 12 machine and builds the solution.
# Idempotent: each step checks whether it is already done.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pg_version=15
pg_config="/usr/lib/postgresql/${pg_version}/bin/pg_config"
pgvector_version=0.8.0

log() { printf '[setup] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
  local wanted=(postgresql-${pg_version} postgresql-server-dev-${pg_version} postgresql-plpython3-${pg_version} build-essential ca-certificates curl)
  local missing=()
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "packages already installed"
    return
  fi
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  # The cluster is ours to create (scripts/db.sh); Debian's default one would only take a port.
  as_root mkdir -p /etc/postgresql-common
  if [ ! -f /etc/postgresql-common/createcluster.conf ] || ! grep -q '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
    echo 'create_main_cluster = false' | as_root tee -a /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Bookworm ships no pgvector binary, so build Debian's own source package from trixie
# without touching the machine's apt sources: a private sources file and lists folder.
install_pgvector() {
  local sharedir
  sharedir="$("$pg_config" --sharedir)"
  if [ -f "$sharedir/extension/vector.control" ]; then
    log "pgvector already installed ($(grep default_version "$sharedir/extension/vector.control"))"
    return
  fi
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  mkdir -p "$work/lists/partial"
  echo 'deb-src http://deb.debian.org/debian trixie main' > "$work/sources.list"
  local apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$work/lists")
  log "downloading pgvector source package"
  as_root apt-get "${apt_opts[@]}" update -qq
  (cd "$work" && as_root apt-get "${apt_opts[@]}" source --download-only "pgvector=${pgvector_version}*" >/dev/null 2>&1 \
    || as_root apt-get "${apt_opts[@]}" source --download-only pgvector >/dev/null)
  local orig
  orig="$(ls "$work"/pgvector_*.orig.tar.gz | head -n 1)"
  tar -xzf "$orig" -C "$work"
  local src
  src="$(find "$work" -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)"
  log "building $(basename "$src")"
  # OPTFLAGS="" keeps -march=native out, so the build runs on any x86-64 CPU.
  make -s -C "$src" OPTFLAGS="" PG_CONFIG="$pg_config" >/dev/null
  as_root make -s -C "$src" OPTFLAGS="" PG_CONFIG="$pg_config" install >/dev/null
  log "pgvector installed"
}

build_solution() {
  log "restoring and building the solution"
  (cd "$repo" && dotnet build DbFirst.sln -c Release -nologo -v quiet -clp:ErrorsOnly)
}

install_packages
install_pgvector
if [ "${DBFIRST_SKIP_BUILD:-0}" != 1 ]; then build_solution; fi
log "done: next, scripts/db.sh start"
