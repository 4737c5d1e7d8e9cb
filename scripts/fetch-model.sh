#!/usr/bin/env bash
# Downloads the real CLIP ViT-B/32 in Immich's layout (immich-app/ViT-B-32__openai on Hugging Face) into
# models/ViT-B-32__openai, verifying every file's size and SHA-256 against the repository's own listing
# (Hugging Face's tree API reports size and, for LFS files, the SHA-256 as lfs.oid).
# Offline it says so in one line and exits 2.
#
# Usage: scripts/fetch-model.sh [REPO_ID] [TARGET_DIR]
#   REPO_ID     default immich-app/ViT-B-32__openai
#   TARGET_DIR  default models/<name after the slash>
set -euo pipefail

repo_id="${1:-immich-app/ViT-B-32__openai}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${2:-$root/models/${repo_id#*/}}"
hub="${HF_ENDPOINT:-https://huggingface.co}"

if ! curl -fs --max-time 10 -o /dev/null "$hub/api/models/$repo_id"; then
  echo "fetch-model: cannot reach $hub (offline?); nothing downloaded" >&2
  exit 2
fi

listing="$(mktemp)"
trap 'rm -f "$listing"' EXIT
curl -fsS --max-time 60 "$hub/api/models/$repo_id/tree/main?recursive=true" -o "$listing"

# path<TAB>size<TAB>sha256-or-empty for the files the runner needs (ONNX models, configs, tokenizer).
mapfile -t files < <(python3 - "$listing" <<'PY'
import json, re, sys
wanted = re.compile(r"^(config\.json|(visual|textual)/(model\.onnx|[^/]+\.json|merges\.txt))$")
for entry in json.load(open(sys.argv[1])):
    if entry.get("type") == "file" and wanted.match(entry["path"]):
        lfs = entry.get("lfs") or {}
        print(f'{entry["path"]}\t{lfs.get("size", entry.get("size", 0))}\t{lfs.get("oid", "")}')
PY
)

if [ "${#files[@]}" -eq 0 ]; then
  echo "fetch-model: $repo_id lists no visual/textual model files" >&2
  exit 1
fi

failed=0
for line in "${files[@]}"; do
  IFS=$'\t' read -r path size sha <<<"$line"
  dest="$target/$path"
  mkdir -p "$(dirname "$dest")"
  if [ -f "$dest" ] && [ "$(stat -c %s "$dest")" = "$size" ] && { [ -z "$sha" ] || [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$sha" ]; }; then
    echo "ok        $path (already present)"
    continue
  fi
  echo "download  $path ($size bytes)"
  curl -fL --progress-bar --retry 3 --max-time 1800 -o "$dest.part" "$hub/$repo_id/resolve/main/$path"
  actual_size="$(stat -c %s "$dest.part")"
  actual_sha="$(sha256sum "$dest.part" | cut -d' ' -f1)"
  if [ "$actual_size" != "$size" ]; then
    echo "MISMATCH  $path: $actual_size bytes, expected $size" >&2; rm -f "$dest.part"; failed=1; continue
  fi
  if [ -n "$sha" ] && [ "$actual_sha" != "$sha" ]; then
    echo "MISMATCH  $path: sha256 $actual_sha, expected $sha" >&2; rm -f "$dest.part"; failed=1; continue
  fi
  mv "$dest.part" "$dest"
  echo "verified  $path sha256=$actual_sha${sha:+ (matches the hub)}"
done

if [ "$failed" -ne 0 ]; then
  echo "fetch-model: some files failed verification; see above" >&2
  exit 1
fi

echo
echo "Model ready in $target"
echo "The runner finds models/ViT-B-32__openai in the checkout by itself; elsewhere point it there with:"
echo "  export Clip__ModelPath=$target      # or: dbfirst ... --model $target"
