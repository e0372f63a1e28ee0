#!/usr/bin/env bash
# Writes the podman engine settings this project's container tests need into
# /etc/containers/containers.conf (idempotent; CI machines start fresh).
#   - runtime runc: the Debian default (crun) cannot start containers with these machines' cgroups (hybrid v1).
#   - default_ulimits: the sandbox lacks CAP_SYS_RESOURCE, so podman must not try to raise RLIMIT_NOFILE/NPROC
#     above the limits the machine already has.
# An existing file that already has both settings is left alone; a file written by someone else without them is
# not rewritten (we do not merge TOML by hand): the script says what to add and exits 1.
# Usage: bash tools/containers/podman-setup.sh [--check]
set -euo pipefail

conf=${CONTAINERS_CONF_PATH:-/etc/containers/containers.conf}
marker='# managed by tools/containers/podman-setup.sh'
wanted="$marker
[containers]
default_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]

[engine]
runtime = \"runc\"
"

has_settings() {
  [[ -f $conf ]] && grep -Eq '^[[:space:]]*default_ulimits[[:space:]]*=' "$conf" &&
    grep -Eq '^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"' "$conf"
}

if has_settings; then
  exit 0
fi
if [[ ${1:-} == --check ]]; then
  echo "podman-setup: $conf lacks default_ulimits and runtime = \"runc\"" >&2
  exit 1
fi
if [[ -f $conf ]] && ! grep -qF "$marker" "$conf" && grep -Eq '^[[:space:]]*[^#[:space:]]' "$conf"; then
  echo "podman-setup: $conf exists with other settings; add these yourself:" >&2
  printf '%s' "$wanted" | sed 1d >&2
  exit 1
fi
mkdir -p "$(dirname "$conf")" 2>/dev/null || true
if [[ ! -w $(dirname "$conf") ]]; then
  echo "podman-setup: cannot write $conf (run as root), or write it yourself:" >&2
  printf '%s' "$wanted" | sed 1d >&2
  exit 1
fi
printf '%s' "$wanted" >"$conf.tmp.$$"
mv "$conf.tmp.$$" "$conf"
echo "podman-setup: wrote $conf"
