#!/usr/bin/env bash
# Builds the three service images from the repository root (so the shared platform package is in
# the build context) and pushes them:
#   tools/k8s/build-push.sh OWNER TAG [--no-push] [--update-manifests]
# e.g. tools/k8s/build-push.sh my-github-user 0.2.0 --update-manifests
#
#   ghcr.io/OWNER/api-service:TAG     services/gateway/Dockerfile
#   ghcr.io/OWNER/auth-service:TAG    services/auth/Dockerfile
#   ghcr.io/OWNER/images-service:TAG  services/images/Dockerfile
#
# Each image is the same as what these commands make by hand:
#   docker build -f services/gateway/Dockerfile -t ghcr.io/OWNER/api-service:TAG .
#   docker push ghcr.io/OWNER/api-service:TAG
# Log in first: echo "$GITHUB_TOKEN" | docker login ghcr.io -u OWNER --password-stdin
# CONTAINER_CLI=podman uses podman instead of docker; REGISTRY overrides ghcr.io.
# --update-manifests writes the new image references into k8s/deployments/*.yaml and the
# k8s/jobs/*.yaml that run one of the images.
set -euo pipefail

# The header comment above, up to the first line that is not a comment.
usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; }

# --help anywhere wins, before the positional arguments are checked.
for arg in "$@"; do
  if [[ "$arg" == -h || "$arg" == --help ]]; then
    usage
    exit 0
  fi
done

if (($# < 2)); then
  usage >&2
  exit 2
fi
owner="$1"
tag="$2"
shift 2
push=1
update_manifests=0
while (($# > 0)); do
  case "$1" in
    --no-push) push=0 ;;
    --update-manifests) update_manifests=1 ;;
    *) echo "build-push: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

# Image references must be lower case; tags are [A-Za-z0-9_.-]{1,128} and never "latest" here:
# the manifests pin versions so a rollout is a change you can see and undo.
if [[ ! "$owner" =~ ^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$ ]]; then
  echo "build-push: OWNER must be lower case letters, digits, '.', '_' or '-' (got '$owner')" >&2
  exit 2
fi
if [[ ! "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || [[ "$tag" == latest ]]; then
  echo "build-push: TAG must be a pinned version such as 0.2.0 (not 'latest'; got '$tag')" >&2
  exit 2
fi

cli="${CONTAINER_CLI:-docker}"
registry="${REGISTRY:-ghcr.io}"
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo_root"
command -v "$cli" >/dev/null || { echo "build-push: '$cli' is not installed (set CONTAINER_CLI)" >&2; exit 1; }

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# image name → service folder
declare -A images=([api-service]=gateway [auth-service]=auth [images-service]=images)

for image in api-service auth-service images-service; do
  ref="$registry/$owner/$image:$tag"
  echo "build-push: building $ref from services/${images[$image]}/Dockerfile"
  "$cli" build -f "services/${images[$image]}/Dockerfile" -t "$ref" \
    --label "org.opencontainers.image.version=$tag" \
    --label "org.opencontainers.image.revision=$revision" \
    --label "org.opencontainers.image.created=$created" \
    .
done

if ((push)); then
  for image in api-service auth-service images-service; do
    ref="$registry/$owner/$image:$tag"
    echo "build-push: pushing $ref"
    "$cli" push "$ref"
  done
fi

if ((update_manifests)); then
  for image in api-service auth-service images-service; do
    # The Deployment, and every Job/CronJob running the same image (k8s/jobs/images-reconcile.yaml).
    for file in "k8s/deployments/$image.yaml" $(grep -lE "image: [^ ]+/$image:" k8s/jobs/*.yaml 2>/dev/null); do
      sed -i -E "s#image: [^ ]+/$image:[^ ]+#image: $registry/$owner/$image:$tag#" "$file"
      sed -i -E "s#(app\.kubernetes\.io/version: )\"[^\"]*\"#\1\"$tag\"#" "$file"
    done
  done
  echo "build-push: k8s/deployments now use $registry/$owner/*:$tag; roll out with kubectl apply -f k8s/deployments/"
fi
