#!/usr/bin/env bash
# Measures the three service images built by tools/containers/build-images.sh and prints a Markdown
# table; with --write it replaces the table between the image-sizes markers in docs/containers.md
# (the README copies it from there).
#   bash tools/containers/image-sizes.sh [--write] [--registry localhost/sre-platform] [--tag podman-test]
# "Size" is the unpacked size (what `docker images` shows); "Compressed" is the gzip size of the whole
# image (about what a registry stores and a node pulls the first time); "Own layers" is the size
# above the node base image (what a node that already has the base pulls).
set -euo pipefail
cd "$(dirname "$0")/../.."

registry=localhost/sre-platform tag=podman-test write=false
while (($#)); do
  case "$1" in
    --write) write=true; shift ;;
    --registry) registry=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    *) echo "image-sizes: unknown argument $1" >&2; exit 1 ;;
  esac
done

base="docker.io/library/node:$(node -p process.versions.node)-bookworm-slim"
mb() { awk -v b="$1" 'BEGIN { printf "%.0f MB", b / 1000000 }'; }
base_size=$(podman image inspect --format '{{.Size}}' "$base")

table="| Image | Size | Compressed | Own layers (above ${base#docker.io/library/}) |
|---|---:|---:|---:|"
for name in api-service auth-service images-service; do
  image="$registry/$name:$tag"
  size=$(podman image inspect --format '{{.Size}}' "$image")
  compressed=$(podman save --quiet "$image" | gzip -6 | wc -c)
  table+="
| \`ghcr.io/<owner>/$name\` | $(mb "$size") | $(mb "$compressed") | $(mb $((size - base_size))) |"
done
node_version=$(node -p process.versions.node)
table+="

Measured $(date -u +%Y-%m-%d) with podman $(podman version --format '{{.Client.Version}}') on the local stand-in for \`node:${node_version}-bookworm-slim\` ($(mb "$base_size"); tools/containers/base-image.sh)."

echo "$table"
if $write; then
  doc=docs/containers.md
  grep -q '<!-- image-sizes:begin' "$doc" || { echo "image-sizes: no <!-- image-sizes:begin --> marker in $doc" >&2; exit 1; }
  TABLE="$table" node -e '
    const fs = require("fs");
    const doc = process.argv[1];
    const text = fs.readFileSync(doc, "utf8");
    const out = text.replace(/(<!-- image-sizes:begin[^>]*-->\n)[\s\S]*?(<!-- image-sizes:end -->)/, (_, a, b) => a + process.env.TABLE + "\n" + b);
    fs.writeFileSync(doc, out);
  ' "$doc"
  echo "image-sizes: updated $doc"
fi
