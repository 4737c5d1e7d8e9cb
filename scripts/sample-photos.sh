#!/usr/bin/env bash
# Gathers real sample photos from Debian's python3-skimage package (without installing Python)
# into DIR (default data/samples/photos). Prints the folder.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo/data/samples/photos}"
cache="$repo/data/cache"
mkdir -p "$dest" "$cache"

if ! ls "$cache"/python3-skimage_*.deb >/dev/null 2>&1; then
  (cd "$cache" && apt-get download python3-skimage >/dev/null 2>&1) || {
    echo "sample-photos: could not download python3-skimage (run 'apt-get update' first?)" >&2
    exit 1
  }
fi

unpacked="$cache/skimage"
if [ ! -d "$unpacked" ]; then
  dpkg -x "$(ls "$cache"/python3-skimage_*.deb | head -n 1)" "$unpacked"
fi

data="$(dirname "$(find "$unpacked" -name chelsea.png -print -quit)")"
[ -d "$data" ] || { echo "sample-photos: no photos found in python3-skimage" >&2; exit 1; }
# The real photos, plus truncated.jpg: a broken JPEG the pipeline must record as an error and move past.
for name in chelsea.png astronaut.png coffee.png rocket.jpg motorcycle_left.png motorcycle_right.png \
            hubble_deep_field.jpg color.png retina.jpg truncated.jpg; do
  [ -f "$data/$name" ] && cp -n "$data/$name" "$dest/" || true
done
echo "$dest"
