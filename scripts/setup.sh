#!/usr/bin/env bash
# Installs what DbFirst needs on a fresh Debian 12 machine and builds the solution.
# Idempotent: each step checks whether it is already done.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pg_version=15
pg_config="/usr/lib/postgresql/${pg_version}/bin/pg_config"

log() { printf '[setup] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
  local wanted=(postgresql-${pg_version} postgresql-server-dev-${pg_version} postgresql-plpython3-${pg_version} build-essential dpkg-dev ca-certificates curl)
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

# Bookworm ships no pgvector binary, so build Debian's own source package of a fixed release: 0.8.6 has the fixes for
# the parallel HNSW build overflow (0.8.2) and HNSW vacuum corruption (0.8.3-0.8.4). The suites' Sources indexes
# already name newer versions whose files may not be in the pool yet, so the files are fetched from the pool by
# exact name and checked against the SHA-256 sums pinned here (the .dsc pins the others again for dpkg-source).
pgvector_version=0.8.6
pgvector_package="pgvector_${pgvector_version}-1"
pgvector_pool=http://deb.debian.org/debian/pool/main/p/pgvector
pgvector_sha256="\
d08de2aa48b7cb70319cc896aa3d95514690d1009f96579dbe6b23c59634f4e6  ${pgvector_package}.dsc
25c9b78cfdaa43c66788d7490246ac24e4fe1c86f19c4b60c089b723f84a4a0d  pgvector_${pgvector_version}.orig.tar.gz
3bbb17a5352900ea6534363399f519967d8c8bb0907f31e29af9ce03d2ed95c4  ${pgvector_package}.debian.tar.xz"

install_pgvector() {
  local sharedir pkglibdir
  sharedir="$("$pg_config" --sharedir)"
  pkglibdir="$("$pg_config" --pkglibdir)"
  if [ -f "$pkglibdir/vector.so" ] && grep -q "^default_version = '${pgvector_version}'" "$sharedir/extension/vector.control" 2>/dev/null; then
    log "pgvector ${pgvector_version} already installed"
    return
  fi
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  log "downloading ${pgvector_package} from Debian's pool"
  local file
  while read -r _ file; do
    curl -fsSL --max-time 300 --retry 3 -o "$work/$file" "$pgvector_pool/$file"
  done <<<"$pgvector_sha256"
  (cd "$work" && sha256sum --quiet -c - <<<"$pgvector_sha256") || { echo "[setup] pgvector source checksum mismatch" >&2; exit 1; }
  # dpkg-source checks the .dsc's own checksums and applies Debian's patches. It cannot check the upload signature
  # without Debian's keyring (and says so); the pinned sums above are what vouch for the files.
  local unpacked
  if ! unpacked="$(cd "$work" && dpkg-source --no-copy -x "${pgvector_package}.dsc" src 2>&1)"; then
    echo "$unpacked" >&2
    exit 1
  fi
  log "building pgvector ${pgvector_version}"
  # OPTFLAGS="" keeps the build portable (any x86-64 CPU). pgvector picks its FMA distance code at run time; a
  # -march=x86-64-v3 build measured no faster (README, "Why the hard set stays above 3 ms").
  make -s -C "$work/src" OPTFLAGS="" PG_CONFIG="$pg_config" >/dev/null
  as_root make -s -C "$work/src" OPTFLAGS="" PG_CONFIG="$pg_config" install >/dev/null
  log "pgvector ${pgvector_version} installed"
  upgrade_cluster
}

# Databases keep the extension version they were created with until ALTER EXTENSION vector UPDATE, which the
# superuser step of scripts/db.sh runs in every DbFirst database: do it now for the local cluster if it exists.
upgrade_cluster() {
  local cluster="${DBFIRST_PGCLUSTER:-dbfirst}"
  if pg_lsclusters -h 2>/dev/null | awk -v v="$pg_version" -v c="$cluster" '$1 == v && $2 == c' | grep -q .; then
    log "updating the vector extension in cluster ${pg_version}/${cluster}"
    DBFIRST_PGPORT="$(pg_lsclusters -h | awk -v c="$cluster" '$2 == c { print $3 }')" "$repo/scripts/db.sh" start >/dev/null
  fi
}

build_solution() {
  log "restoring and building the solution"
  (cd "$repo" && dotnet build DbFirst.sln -c Release -nologo -v quiet -clp:ErrorsOnly)
}

install_packages
install_pgvector
if [ "${DBFIRST_SKIP_BUILD:-0}" != 1 ]; then build_solution; fi
log "done: next, scripts/db.sh start"
