#!/usr/bin/env bash
# Measures a streaming standby's replay lag under an ingest load (scripts/db.sh replica start first). Ingest load on the primary — batches of 1,000 new images with 512-d embeddings of the active model, through the
# pending-queue and stored-neighbour triggers and the HNSW index — while sampling the standby's replay lag (0.5 s).
set -euo pipefail
# Usage: BATCHES=20 scripts/replica-lag.sh
# It works in a scratch database of its own (created, migrated, dropped), never in a gallery.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
done_flag="$(mktemp -u)"
db="dbfirst_replica_lag_$$"
port="${DBFIRST_PGPORT:-55432}"
export PGPASSFILE="${DBFIRST_PGPASSFILE:-${XDG_CONFIG_HOME:-$HOME/.config}/dbfirst/pgpass}"
psql -h 127.0.0.1 -p "$port" -U dbfirst_owner -d postgres -qAtX -c "CREATE DATABASE $db"
trap 'psql -h 127.0.0.1 -p "$port" -U dbfirst_owner -d postgres -qAtX -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
"$repo/scripts/dbfirst" migrate up --connection "Host=127.0.0.1;Port=${port};Database=${db};Username=dbfirst_owner;Passfile=${PGPASSFILE}" >/dev/null
P="psql -h 127.0.0.1 -p $port -U dbfirst_owner -d $db -qAtX"
S="psql -h 127.0.0.1 -p ${DBFIRST_REPLICA_PGPORT:-$((port + 1))} -U dbfirst_owner -d $db -qAtX"
$P -c "SELECT gallery.ensure_active_model('lag-test-512', 512)" >/dev/null
start=$(date +%s)
( for b in $(seq 1 ${BATCHES:-20}); do
    $P -c "WITH g AS (INSERT INTO gallery.image_gallery (path) SELECT '/lag/' || $b || '-' || i || '-' || gen_random_uuid() || '.png' FROM generate_series(1, 1000) i RETURNING id)
           INSERT INTO gallery.image_embeddings (model_id, image_id, embedding)
           SELECT (gallery.active_model()).id, g.id, (SELECT array_agg(random() - 0.5)::vector FROM generate_series(1, 512) WHERE g.id > 0) FROM g"
  done; touch "$done_flag" ) &
rm -f "$done_flag"; max=0; n=0; sum=0
while [ ! -f "$done_flag" ]; do
  lag=$($P -c "SELECT coalesce(max(replay_lag_seconds), 0) FROM gallery_monitor.replication()")
  n=$((n+1)); max=$(python3 -c "print(max($max, $lag))"); sum=$(python3 -c "print($sum + $lag)"); sleep 0.5
done
wait
end=$(date +%s)
rows=$($P -c 'SELECT count(*) FROM gallery.image_gallery')
for _ in $(seq 1 20); do [ "$($S -c 'SELECT count(*) FROM gallery.image_gallery')" = "$rows" ] && break; sleep 0.5; done
echo "load_seconds=$((end-start)) samples=$n mean_replay_lag_s=$(python3 -c "print(round($sum/$n,3))") max_replay_lag_s=$max primary_rows=$rows standby_rows=$($S -c 'SELECT count(*) FROM gallery.image_gallery')"
