#!/usr/bin/env bash
# The project's private PostgreSQL cluster on loopback.
#   scripts/db.sh start|stop|status|url|psql [psql args]
# Port: DBFIRST_PGPORT (default 55432). It is a Debian cluster named "dbfirst", so its data
# lives under /var/lib/postgresql and the postgres user owns it: initdb refuses to run as root.
set -euo pipefail

pg_version=15
cluster=dbfirst
port="${DBFIRST_PGPORT:-55432}"
database=dbfirst
role=dbfirst
password="${DBFIRST_PGPASSWORD:-dbfirst}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
die() { echo "db.sh: $*" >&2; exit 1; }

url() {
  echo "Host=127.0.0.1;Port=${port};Database=${database};Username=${role};Password=${password}"
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
CONF
}

ensure_role_and_database() {
  # The role owns the dev database and runs migrations, which create an extension and roles.
  as_postgres psql -p "$port" -qAtX -v ON_ERROR_STOP=1 <<SQL >/dev/null
SELECT format('CREATE ROLE %I LOGIN SUPERUSER PASSWORD %L', '${role}', '${password}')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}')
\gexec
SELECT format('CREATE DATABASE %I OWNER %I', '${database}', '${role}')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '${database}')
\gexec
SQL
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
  ensure_role_and_database
  echo "db.sh: PostgreSQL ${pg_version} is up on 127.0.0.1:${port}, database ${database}"
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
  url) url ;;
  psql) shift; PGPASSWORD="$password" exec psql -h 127.0.0.1 -p "$port" -U "$role" -d "$database" "$@" ;;
  *) echo "usage: scripts/db.sh start|stop|status|url|psql [args]" >&2; exit 2 ;;
esac
