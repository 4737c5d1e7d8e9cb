#!/usr/bin/env bash
# The project's private PostgreSQL cluster on loopback.
#   scripts/db.sh start|stop|status|url [owner|app]|psql [psql args]
#   scripts/db.sh replica start|stop|status|drop|url [owner|app]|psql [psql args]
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
replicator=dbfirst_replicator
# The streaming standby for analysts (scripts/db.sh replica …): another cluster of the same version on the next port.
replica_cluster="${DBFIRST_REPLICA_PGCLUSTER:-${cluster}_replica}"
replica_port="${DBFIRST_REPLICA_PGPORT:-$((port + 1))}"
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
  # A quarter of the machine's memory for shared buffers (PostgreSQL's usual advice), at most 8 GB: an HNSW index
  # searched from the OS page cache instead pays a buffer replacement per page (10^6 rows: a 2.5 GiB index).
  local memory_mb buffers_mb
  memory_mb=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024 ))
  buffers_mb=$(( memory_mb / 4 > 8192 ? 8192 : (memory_mb / 4 < 128 ? 128 : memory_mb / 4) ))
  # Loopback only; sized for building vector indexes.
  as_root tee "/etc/postgresql/${pg_version}/${cluster}/conf.d/dbfirst.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
max_connections = 200
shared_buffers = '${buffers_mb}MB'
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

# Replaces the lines of one port with one line per login given as login=password.
write_passfile() {
  local on_port="$1" tmp pair lock
  shift
  mkdir -p "$(dirname "$passfile")"
  chmod 0700 "$(dirname "$passfile")"
  # Clusters started side by side share the file: one writer at a time, or one start drops another's lines.
  exec {lock}>"${passfile}.lock"
  flock -w 30 "$lock" || die "another db.sh holds ${passfile}.lock for over 30 s"
  tmp="$(mktemp "${passfile}.XXXXXX")"
  chmod 0600 "$tmp"
  if [ -f "$passfile" ]; then
    awk -F: -v p="$on_port" '!($1 == "127.0.0.1" && $2 == p)' "$passfile" >"$tmp"
  fi
  for pair in "$@"; do
    printf '127.0.0.1:%s:*:%s:%s\n' "$on_port" "${pair%%=*}" "${pair#*=}" >>"$tmp"
  done
  mv "$tmp" "$passfile"
  exec {lock}>&-
}

superuser_psql() { as_postgres psql -p "$port" -qAtX -v ON_ERROR_STOP=1 "$@"; }

superuser_step() {
  local owner_password app_password replicator_password
  owner_password="$(password_for "${DBFIRST_PGPASSWORD:-}" "$owner")"
  app_password="$(password_for "${DBFIRST_APP_PGPASSWORD:-}" "$app")"
  replicator_password="$(password_for "${DBFIRST_REPLICATOR_PGPASSWORD:-}" "$replicator")"
  # The passwords travel on stdin (psql's \set), never on a command line that ps could show.
  { printf '\\set owner_password %s\n\\set app_password %s\n\\set replicator_password %s\n' \
      "$owner_password" "$app_password" "$replicator_password"
    cat "$repo/sql/superuser/cluster.sql"; } | superuser_psql -d postgres >/dev/null
  write_passfile "$port" "$owner=$owner_password" "$app=$app_password" "$replicator=$replicator_password"
  # A standby is a copy of this cluster, roles and passwords included: its port gets the same lines.
  if replica_exists; then
    write_passfile "$replica_port" "$owner=$owner_password" "$app=$app_password"
    write_replication_passfile "$replicator_password"
  fi
  local db err
  # An interrupted DROP DATABASE (a killed test run, a cancelled drop) leaves the database invalid (datconnlimit -2):
  # no one can connect, and DROP is all that is left. A scratch database of the tests or the benchmark, named as
  # they name them, held nothing anyone keeps, so it goes; any other is left alone, with a word.
  for db in $(superuser_psql -d postgres -c \
      "SELECT datname FROM pg_database WHERE datconnlimit = -2 AND datdba = '${owner}'::regrole ORDER BY datname"); do
    if [[ "$db" =~ ^dbfirst_(test|bench|scratch)_[0-9a-f]{16}$ ]]; then
      superuser_psql -d postgres -c "DROP DATABASE IF EXISTS ${db}" >/dev/null \
        || die "could not drop ${db}, a scratch database an interrupted DROP left invalid"
      echo "db.sh: dropped ${db}, a scratch database an interrupted DROP DATABASE had left invalid" >&2
    else
      echo "db.sh: warning: database ${db} is invalid (an interrupted DROP DATABASE); skipped; DROP DATABASE is all it allows" >&2
    fi
  done
  for db in $(superuser_psql -d postgres -c \
      "SELECT datname FROM pg_database WHERE datallowconn AND datconnlimit <> -2 AND (datname = 'template1' OR datdba = '${owner}'::regrole) ORDER BY datname = 'template1' DESC, datname"); do
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

# --- The streaming standby (analysts' read replica) -------------------------------------------------------------
# A physical copy made by pg_basebackup that replays the primary's WAL: every database, role and function is the
# primary's, read-only. It streams through the slot named after it (WAL it has not received is kept, up to
# max_slot_wal_keep_size) as dbfirst_replicator, a REPLICATION login with no rights in any database.

replica_exists() { pg_lsclusters -h 2>/dev/null | awk -v c="$replica_cluster" '$2 == c' | grep -q .; }

replica_online() { pg_lsclusters -h | awk -v c="$replica_cluster" '$2 == c { print $4 }' | grep -q online; }

replica_slot() { printf '%s' "$replica_cluster" | tr -c 'a-z0-9_' '_'; }

replica_confdir() { echo "/etc/postgresql/${pg_version}/${replica_cluster}"; }

# The walreceiver runs as postgres and reads its password from a file of its own (0600, beside its configuration),
# so the password is in no conninfo string that pg_stat_wal_receiver or a log could show.
write_replication_passfile() {
  local file
  file="$(replica_confdir)/replication.pgpass"
  printf '127.0.0.1:%s:replication:%s:%s\n' "$port" "$replicator" "$1" | as_root tee "$file" >/dev/null
  as_root chown postgres:postgres "$file"
  as_root chmod 0600 "$file"
}

replica_psql() { as_postgres psql -p "$replica_port" -qAtX -v ON_ERROR_STOP=1 "$@"; }

replica_create() {
  local confdir datadir slot
  confdir="$(replica_confdir)"
  datadir="/var/lib/postgresql/${pg_version}/${replica_cluster}"
  slot="$(replica_slot)"
  pg_lsclusters -h | awk '{ print $3 }' | grep -qx "$replica_port" \
    && die "port ${replica_port} is taken by another cluster: set DBFIRST_REPLICA_PGPORT"
  echo "db.sh: creating standby ${pg_version}/${replica_cluster} on 127.0.0.1:${replica_port} (pg_basebackup of port ${port})"
  # WAL kept for a stopped standby is bounded: past this the slot is invalidated and `replica drop` + `start` re-copies.
  as_root tee "/etc/postgresql/${pg_version}/${cluster}/conf.d/dbfirst-replication.conf" >/dev/null <<CONF
max_slot_wal_keep_size = '4GB'
CONF
  superuser_psql -d postgres -c 'SELECT pg_reload_conf()' >/dev/null
  superuser_psql -d postgres -c \
    "SELECT pg_create_physical_replication_slot('${slot}') WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '${slot}')" >/dev/null
  as_root pg_createcluster "$pg_version" "$replica_cluster" --port "$replica_port" --start-conf=manual >/dev/null
  as_root rm -rf "${datadir:?}"/*
  # Settings a hot standby must not have below the primary's (max_connections …) come from the same file.
  as_root cp "/etc/postgresql/${pg_version}/${cluster}/conf.d/dbfirst.conf" "${confdir}/conf.d/dbfirst.conf"
  as_root tee "${confdir}/conf.d/dbfirst-standby.conf" >/dev/null <<CONF
primary_conninfo = 'host=127.0.0.1 port=${port} user=${replicator} passfile=${confdir}/replication.pgpass application_name=${replica_cluster} connect_timeout=10'
primary_slot_name = '${slot}'
hot_standby = on
# Analysts' long queries are not cancelled by vacuum on the primary; the primary keeps the rows they still see.
hot_standby_feedback = on
CONF
  write_replication_passfile "$(stored_password "$replicator")"
  as_postgres env PGPASSFILE="${confdir}/replication.pgpass" \
    pg_basebackup -h 127.0.0.1 -p "$port" -U "$replicator" -D "$datadir" -X stream -S "$slot" -c fast --no-password \
    || die "pg_basebackup from port ${port} failed"
  as_postgres touch "${datadir}/standby.signal"
}

replica_start() {
  start >/dev/null
  replica_exists || replica_create
  local owner_password app_password
  owner_password="$(stored_password "$owner")"
  app_password="$(stored_password "$app")"
  write_passfile "$replica_port" "$owner=$owner_password" "$app=$app_password"
  write_replication_passfile "$(stored_password "$replicator")"
  replica_online || as_root pg_ctlcluster "$pg_version" "$replica_cluster" start
  for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$replica_port"; then break; fi
    sleep 0.5
  done
  pg_isready -q -h 127.0.0.1 -p "$replica_port" || die "standby on 127.0.0.1:${replica_port} did not become ready"
  # Streaming, not just replaying what the copy brought: wait (bounded) until the primary sees it.
  for _ in $(seq 1 60); do
    if superuser_psql -d postgres -c \
        "SELECT 1 FROM pg_stat_replication WHERE application_name = '${replica_cluster}' AND state = 'streaming'" | grep -q 1; then
      echo "db.sh: standby ${replica_cluster} streams from port ${port}; analysts connect to 127.0.0.1:${replica_port} (scripts/db.sh replica url)"
      return 0
    fi
    sleep 0.5
  done
  die "standby ${replica_cluster} is up but not streaming after 30 s: see /var/log/postgresql/postgresql-${pg_version}-${replica_cluster}.log"
}

replica_stop() {
  if replica_exists; then as_root pg_ctlcluster "$pg_version" "$replica_cluster" stop -m fast || true; fi
  echo "db.sh: standby stopped (the primary keeps its WAL in slot $(replica_slot), at most max_slot_wal_keep_size)"
}

# A standby holds no data of its own, so dropping it loses nothing; the slot goes too so WAL is not kept for it.
replica_drop() {
  if replica_exists; then as_root pg_dropcluster "$pg_version" "$replica_cluster" --stop; fi
  if pg_isready -q -h 127.0.0.1 -p "$port"; then
    superuser_psql -d postgres -c \
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$(replica_slot)'" >/dev/null
  fi
  if [ -f "$passfile" ]; then write_passfile "$replica_port"; fi
  echo "db.sh: standby ${replica_cluster} dropped"
}

replica_status() {
  replica_exists || { echo "db.sh: no standby yet (scripts/db.sh replica start creates it)"; return 1; }
  pg_lsclusters "$pg_version" "$replica_cluster"
  echo "primary (port ${port}):"
  superuser_psql -d postgres -F ' ' -c "
    SELECT 'state=' || state, 'sent_behind_bytes=' || pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn),
           'replay_lag=' || coalesce(replay_lag::text, '0')
    FROM pg_stat_replication WHERE application_name = '${replica_cluster}'" | sed 's/^/  /'
  if replica_online; then
    echo "standby (port ${replica_port}):"
    replica_psql -d postgres -F ' ' -c "
      SELECT 'in_recovery=' || pg_is_in_recovery(),
             'last_replayed=' || coalesce(pg_last_xact_replay_timestamp()::text, 'none'),
             'seconds_since_replay=' || coalesce(round(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::numeric, 1)::text, 'n/a')" \
      | sed 's/^/  /'
  fi
}

replica() {
  case "${1:-}" in
    start) replica_start ;;
    stop) replica_stop ;;
    status) replica_status ;;
    drop) replica_drop ;;
    url) port="$replica_port" url "${2:-app}" ;;
    psql) shift; PGPASSFILE="$passfile" exec psql -h 127.0.0.1 -p "$replica_port" -U "$owner" -d "$database" "$@" ;;
    *) echo "usage: scripts/db.sh replica start|stop|status|drop|url [owner|app]|psql [args]" >&2; exit 2 ;;
  esac
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) url "${2:-app}" ;;
  psql) shift; PGPASSFILE="$passfile" exec psql -h 127.0.0.1 -p "$port" -U "$owner" -d "$database" "$@" ;;
  replica) shift; replica "$@" ;;
  *) echo "usage: scripts/db.sh start|stop|status|url [owner|app]|psql [args]|replica start|stop|status|drop|url|psql" >&2; exit 2 ;;
esac
