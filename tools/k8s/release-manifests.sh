#!/usr/bin/env bash
# Released manifests pin images by digest: copies k8s/ (never secrets.yaml or tls/) to OUT_DIR/k8s with
# each Deployment's image rewritten to REGISTRY/OWNER/<name>:TAG@sha256:<digest> as the registry reports
# it, and renders the whole kustomization to OUT_DIR/sre-platform-TAG.yaml. .github/workflows/images.yml
# runs it on version tags after the push.
#   tools/k8s/release-manifests.sh ghcr.io/my-org 0.2.0 dist/
# CONTAINER_CLI (default docker) must have buildx: `docker buildx imagetools inspect` reads the digest.
set -euo pipefail

if (($# != 3)); then
  sed -n '2,8{s/^# \{0,1\}//p}' "$0" >&2
  exit 2
fi
repository="$1"
tag="$2"
out="$3"
cli="${CONTAINER_CLI:-docker}"
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

rm -rf "$out/k8s"
mkdir -p "$out"
cp -R "$repo_root/k8s" "$out/k8s"
rm -rf "$out/k8s/secrets.yaml" "$out/k8s/tls"

for image in api-service auth-service images-service; do
  ref="$repository/$image:$tag"
  digest=$("$cli" buildx imagetools inspect "$ref" --format '{{.Manifest.Digest}}')
  if [[ ! "$digest" =~ ^sha256:[0-9a-f]{64}$ ]]; then
    echo "release-manifests: no digest for $ref (got '$digest')" >&2
    exit 1
  fi
  # The Deployment, and every Job/CronJob running the same image (k8s/jobs/images-reconcile.yaml).
  for file in "$out/k8s/deployments/$image.yaml" $(grep -lE "image: [^ ]+/$image:" "$out"/k8s/jobs/*.yaml 2>/dev/null); do
    sed -i -E "s#image: [^ ]+/$image:[^ ]+#image: $ref@$digest#" "$file"
    sed -i -E "s#(app\.kubernetes\.io/version: )\"[^\"]*\"#\1\"$tag\"#" "$file"
  done
  echo "release-manifests: $ref@$digest"
done

kubectl kustomize "$out/k8s" >"$out/sre-platform-$tag.yaml"
echo "release-manifests: wrote $out/k8s/ and $out/sre-platform-$tag.yaml (apply k8s/secrets.yaml separately)"
