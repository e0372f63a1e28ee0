#!/usr/bin/env bash
# Builds the three service images from the repository root, on this machine (no push: publishing is
# tools/k8s/build-push.sh OWNER TAG). The container tests build through this script.
#
#   tools/containers/build-images.sh [--registry localhost/sre-platform] [--tag podman-test] [--only auth-service]
#   tools/containers/build-images.sh --engine podman --pull never     (machines that cannot pull: the tests)
#
# Image names are the seed's: <registry>/api-service (the gateway), <registry>/auth-service,
# <registry>/images-service. The engine is docker when it is installed and reachable, else podman
# (override with --engine or CONTAINER_ENGINE). OCI labels get the version, git revision and build
# time (SOURCE_DATE_EPOCH when set, so repeated builds of one commit reuse every cached layer).
set -euo pipefail
cd "$(dirname "$0")/../.."

registry=${IMAGE_REGISTRY:-localhost/sre-platform}
tag=${IMAGE_TAG:-podman-test}
engine=${CONTAINER_ENGINE:-}
pull=
only=()
extra_tags=()

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --registry) registry=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --also-tag) extra_tags+=("$2"); shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    --pull) pull=$2; shift 2 ;;
    --only) only+=("$2"); shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "build-images: unknown argument $1" >&2; usage 1 ;;
  esac
done
registry=${registry%/}
if [[ $registry =~ [A-Z] ]]; then
  echo "build-images: image names must be lower-case: $registry" >&2
  exit 1
fi

if [[ -z $engine ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker; else engine=podman; fi
fi
command -v "$engine" >/dev/null || { echo "build-images: '$engine' is not installed" >&2; exit 1; }

# image name → service directory (the gateway keeps the seed's name, api-service)
declare -A dirs=([api-service]=services/gateway [auth-service]=services/auth [images-service]=services/images)
names=(auth-service images-service api-service)
((${#only[@]})) && names=("${only[@]}")

revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || revision="${revision}-dirty"
created=$(date -u ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"} +%Y-%m-%dT%H:%M:%SZ)
source_url=$(git remote get-url origin 2>/dev/null | sed -E 's#^git@([^:]+):#https://\1/#; s#\.git$##' || true)
# A clone of a local folder (CI, a fork on disk) has no public URL: name the project's home instead.
[[ "$source_url" == https://* ]] || source_url=${SOURCE_URL:-https://github.com/sre-platform/sre-platform}

build_opts=()
[[ -n $pull ]] && build_opts+=("--pull=$pull")
if [[ $engine == podman ]]; then
  build_opts+=(--layers)
  # The build's `npm ci` opens more files at once than the 1024 that podman-setup.sh gives containers by
  # default (EMFILE in npm's cache once the lockfile grew). Raise it for builds only, within the machine's
  # own hard limit: lowering a limit needs no CAP_SYS_RESOURCE, raising past the hard one would.
  hard_nofile=$(ulimit -Hn)
  build_nofile=8192
  if [[ $hard_nofile != unlimited ]] && ((hard_nofile < build_nofile)); then build_nofile=$hard_nofile; fi
  build_opts+=(--ulimit "nofile=$build_nofile:$build_nofile")
  # Machines whose egress to the npm registry goes through a TLS-inspecting proxy trust its CA through
  # npm's `cafile`. Lend that file and setting to the build's RUN steps only (bind mounts are not
  # part of any layer), so images stay the same as anywhere else.
  cafile=$(npm config get cafile 2>/dev/null || true)
  if [[ -n $cafile && $cafile != null && $cafile != undefined && -f $cafile ]]; then
    npmrc=$(mktemp /tmp/sre-build-npmrc.XXXXXX)
    trap 'rm -f "$npmrc"' EXIT
    printf 'cafile=/run/sre-build-ca.crt\n' >"$npmrc"
    chmod 0644 "$npmrc"
    build_opts+=(-v "$cafile:/run/sre-build-ca.crt:ro" -v "$npmrc:/usr/local/etc/npmrc:ro")
  fi
fi

for name in "${names[@]}"; do
  dir=${dirs[$name]:-}
  [[ -n $dir ]] || { echo "build-images: unknown image $name (one of ${!dirs[*]})" >&2; exit 1; }
  image="$registry/$name:$tag"
  tags=(-t "$image")
  for t in "${extra_tags[@]}"; do tags+=(-t "$t"); done
  echo "build-images: $image ($dir/Dockerfile)"
  previous=$("$engine" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  # The labels are also given as --label: podman 4.3 (buildah 1.28) reuses a cached LABEL step even
  # when the --build-arg values it expands have changed.
  "$engine" build "${build_opts[@]}" "${tags[@]}" -f "$dir/Dockerfile" \
    --build-arg "VERSION=$tag" --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
    ${source_url:+--build-arg "SOURCE=$source_url"} \
    --label "org.opencontainers.image.version=$tag" --label "org.opencontainers.image.revision=$revision" \
    --label "org.opencontainers.image.created=$created" ${source_url:+--label "org.opencontainers.image.source=$source_url"} .
  # The image this tag named before is now untagged: remove it unless a container still uses it
  # (its cached layers stay for the next build).
  current=$("$engine" image inspect --format '{{.Id}}' "$image")
  if [[ -n $previous && $previous != "$current" ]]; then
    "$engine" rmi "$previous" >/dev/null 2>&1 || true
  fi
done
