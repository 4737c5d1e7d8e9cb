#!/usr/bin/env bash
# The main job, end to end on this machine: start PostgreSQL, migrate, gather sample photos, ingest, embed,
# tune the vector index, then run a text search and a similar-image search and write both as HTML pages.
# It installs what is missing first (scripts/ensure-setup.sh; quick when nothing is). With the real CLIP
# model (scripts/fetch-model.sh) it is a real gallery; offline it uses the bundled test model, which only
# understands colours, and says so.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
out="${DBFIRST_DEMO_DIR:-$repo/data/demo}"
dbfirst() { "$repo/scripts/dbfirst" "$@"; }
step() { printf '\n== %s\n' "$*" >&2; }

step "set-up"
scripts/ensure-setup.sh

step "database"
scripts/db.sh start
dbfirst migrate up

step "sample photos"
mkdir -p "$out/gallery"
if ! scripts/sample-photos.sh "$out/gallery/photos" >/dev/null; then
  echo "demo: no real photos (python3-skimage could not be downloaded); continuing with generated ones" >&2
fi
dbfirst samples colours "$out/gallery/colours" --per-colour 20 >/dev/null
echo "  $(find "$out/gallery" -type f | wc -l) files under $out/gallery" >&2

step "ingest"
dbfirst ingest "$out/gallery"

step "embed"
dbfirst embed

step "index"
dbfirst index rebuild --type hnsw
dbfirst index tune --target-recall 0.95 --queries 50 \
  || echo "demo: index tune did not reach its target; searches use the default setting" >&2
dbfirst index status

if [ -n "${Clip__ModelPath:-}" ] || [ -d "$repo/models/ViT-B-32__openai" ]; then
  query="${DBFIRST_DEMO_QUERY:-a cat lying on a blanket}"
  probe="chelsea.png"
else
  echo "demo: using the bundled test model: results follow colour only, not meaning (scripts/fetch-model.sh gets the real one)" >&2
  query="${DBFIRST_DEMO_QUERY:-a red photo}"
  probe="red.jpg"
fi

step "search: \"$query\""
dbfirst search "$query" -k 5 --html "$out/search.html"

probe_id="$(scripts/db.sh psql -qAtX -c "SELECT id FROM gallery.image_gallery WHERE path LIKE '%/$probe' ORDER BY id LIMIT 1")"
step "similar to $probe (id $probe_id)"
dbfirst similar "$probe_id" -k 5 --html "$out/similar.html"

step "done"
echo "HTML pages: $out/search.html and $out/similar.html" >&2
echo "Dashboard and gallery page: scripts/dbfirst serve, then http://127.0.0.1:5000/hangfire and http://127.0.0.1:5000/" >&2
echo "psql as an analyst: PGOPTIONS='-c role=gallery_analyst' scripts/db.sh psql; with serve running: SELECT * FROM gallery.search('$query', 5);" >&2
