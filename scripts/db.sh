#!/usr/bin/env bash
# The project's private PostgreSQL cluster on loopback.
#   scripts/db.sh start|stop|status|url [owner|app]|psql [psql args]
# Cluster name and port: DBFIRST_PGCLUSTER (default dbfirst), DBFIRST_PGPORT (default 55432). It is a Debian
# cluster, so its data lives under /var/lib/postgresql and the postgres user owns it: initdb refuses to run as root.
#
# Logins (README "Security"): dbfirst_owner runs migrations and index management, dbfirst_app everything else.
# Their passwords are generated at the first start and kept in a pgpass file only its owner can read
# (DBFIRST_PGPASSFILE, default ~/.config/dbfirst/pgpass); DBFIRST_PGPASSWORD / DBFIRST_APP_PGPASSWORD set at
# any start replace them (ALTER ROLE). What needs a superuser runs here, as the postgres OS user through peer
# authentication: sql/superuser/cluster.sql once per start, sql/superuser/database.sql in every DbFirst database.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pg_version=15
cluster="${DBFIRST_PGCLUSTER:-dbfirst}"
port="${DBFIRST_PGPORT:-55432}"
database=dbfirst
owner=dbfirst_owner
app=dbfirst_app
passfile="${DBFIRST_PGPASSFILE:-${XDG_CONFIG_HOME:-$HOME/.config}/dbfirst/pgpass}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
die() { echo "db.sh: $*" >&2; exit 1; }

# Connection string without a password: Npgsql reads it from the pgpass file, as psql does.
url() {
  local who="${1:-app}"
  case "$who" in owner) who="$owner" ;; app) who="$app" ;; *) die "url takes owner or app" ;; esac
  echo "Host=127.0.0.1;Port=${port};Database=${database};Username=${who};Passfile=${passfile}"
}

cluster_exists() { pg_lsclusters -h 2>/dev/null | awk -v c="$cluster" '$2 == c' | grep -q .; }

cluster_port() { pg_lsclusters -h | awk -v c="$cluster" '$2 == c { print $3 }'; }

create_cluster() {
  command -v pg_createcluster >/dev/null || die "PostgreSQL is not installed: run scripts/setup.sh first"
  echo "db.sh: creating cluster ${pg_version}/${cluster} on 127.0.0.1:${port}"
  as_root pg_createcluster "$pg_version" "$cluster" --port "$port" --start-conf=manual \
    -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  # Sized for a 2-core, 24 GiB machine that builds vector indexes; loopback only.
  as_root tee "/etc/postgresql/${pg_version}/${cluster}/conf.d/dbfirst.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
max_connections = 200
shared_buffers = '1GB'
maintenance_work_mem = '1GB'
max_parallel_maintenance_workers = $(nproc)
max_wal_size = '4GB'
password_encryption = 'scram-sha-256'
CONF
}

# TCP logins must prove their password with SCRAM: an older cluster's md5/password/trust host lines are rewritten.
ensure_scram() {
  local hba="/etc/postgresql/${pg_version}/${cluster}/pg_hba.conf"
  if as_root grep -Eq '^[[:space:]]*host(ssl|nossl)?[[:space:]].*[[:space:]](md5|password|trust)[[:space:]]*$' "$hba"; then
    as_root sed -Ei 's/^([[:space:]]*host(ssl|nossl)?[[:space:]].*[[:space:]])(md5|password|trust)[[:space:]]*$/\1scram-sha-256/' "$hba"
    as_postgres psql -p "$port" -qAtX -c 'SELECT pg_reload_conf()' >/dev/null
  fi
}

new_password() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

# The stored password of a login on this port, if any.
stored_password() {
  [ -f "$passfile" ] || return 0
  awk -F: -v p="$port" -v u="$1" '$1 == "127.0.0.1" && $2 == p && $4 == u { print $5; exit }' "$passfile"
}

# One override, else what is stored, else a new one. Overrides may not hold pgpass's separators.
password_for() {
  local override="$1" login="$2" value
  if [ -n "$override" ]; then
    [[ "$override" =~ ^[A-Za-z0-9._~+/=-]{16,}$ ]] \
      || die "the password for ${login} must be at least 16 characters of letters, digits and ._~+/=-"
    value="$override"
  else
    value="$(stored_password "$login")"
    [ -n "$value" ] || value="$(new_password)"
  fi
  printf '%s' "$value"
}

write_passfile() {
  local owner_password="$1" app_password="$2" tmp
  mkdir -p "$(dirname "$passfile")"
  chmod 0700 "$(dirname "$passfile")"
  tmp="$(mktemp "${passfile}.XXXXXX")"
  chmod 0600 "$tmp"
  if [ -f "$passfile" ]; then
    awk -F: -v p="$port" '!($1 == "127.0.0.1" && $2 == p)' "$passfile" >"$tmp"
  fi
  printf '127.0.0.1:%s:*:%s:%s\n127.0.0.1:%s:*:%s:%s\n' \
    "$port" "$owner" "$owner_password" "$port" "$app" "$app_password" >>"$tmp"
  mv "$tmp" "$passfile"
}

superuser_psql() { as_postgres psql -p "$port" -qAtX -v ON_ERROR_STOP=1 "$@"; }

superuser_step() {
  local owner_password app_password
  owner_password="$(password_for "${DBFIRST_PGPASSWORD:-}" "$owner")"
  app_password="$(password_for "${DBFIRST_APP_PGPASSWORD:-}" "$app")"
  # The passwords travel on stdin (psql's \set), never on a command line that ps could show.
  { printf '\\set owner_password %s\n\\set app_password %s\n' "$owner_password" "$app_password"
    cat "$repo/sql/superuser/cluster.sql"; } | superuser_psql -d postgres >/dev/null
  write_passfile "$owner_password" "$app_password"
  local db err
  for db in $(superuser_psql -d postgres -c \
      "SELECT datname FROM pg_database WHERE datallowconn AND (datname = 'template1' OR datdba = '${owner}'::regrole) ORDER BY datname = 'template1' DESC, datname"); do
    # A test run beside this one may drop its database between the listing and here: gone is fine, other failures are not.
    if ! err="$(superuser_psql -d "$db" -f "$repo/sql/superuser/database.sql" 2>&1 >/dev/null)"; then
      if superuser_psql -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '${db}'" | grep -q 1; then
        echo "$err" >&2
        die "the superuser step failed in database ${db}"
      fi
    fi
  done
}

wait_ready() {
  for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$port"; then return 0; fi
    sleep 0.5
  done
  die "server on 127.0.0.1:${port} did not become ready"
}

start() {
  cluster_exists || create_cluster
  local actual
  actual="$(cluster_port)"
  [ "$actual" = "$port" ] || die "cluster ${cluster} listens on port ${actual}, not ${port}; set DBFIRST_PGPORT=${actual}"
  if ! pg_lsclusters -h | awk -v c="$cluster" '$2 == c { print $4 }' | grep -q online; then
    as_root pg_ctlcluster "$pg_version" "$cluster" start
  fi
  wait_ready
  ensure_scram
  superuser_step
  echo "db.sh: PostgreSQL ${pg_version} is up on 127.0.0.1:${port}, database ${database} (passwords in ${passfile})"
}

stop() {
  if cluster_exists; then as_root pg_ctlcluster "$pg_version" "$cluster" stop -m fast || true; fi
  echo "db.sh: stopped"
}

status() {
  if ! cluster_exists; then echo "db.sh: no cluster yet (scripts/db.sh start creates it)"; return 1; fi
  pg_lsclusters "$pg_version" "$cluster"
  pg_isready -h 127.0.0.1 -p "$port"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) url "${2:-app}" ;;
  psql) shift; PGPASSFILE="$passfile" exec psql -h 127.0.0.1 -p "$port" -U "$owner" -d "$database" "$@" ;;
  *) echo "usage: scripts/db.sh start|stop|status|url [owner|app]|psql [args]" >&2; exit 2 ;;
esac
