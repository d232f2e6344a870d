#!/usr/bin/env bash
# Install the Debian packages Parley's tests and scale-out scripts use, when they are missing:
# PostgreSQL (server binaries), Chromium (browser tests), Redis (multi-instance tests), nginx (the
# proxy in front of several instances, scripts/cluster.sh), wrk (the load generator of `make bench`).
# Idempotent: installs nothing when everything is there. Needs root for apt-get.
set -euo pipefail

missing=()
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
[[ -n "$pg_bin" && -x "$pg_bin/initdb" ]] || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || [[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)

if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "parley: missing Debian packages: ${missing[*]}" >&2
  echo "parley: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
  echo "parley: (make run works without them; make test needs them)" >&2
  exit 0
fi
echo "parley: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# the Debian package starts a cluster of its own; Parley's tests start private ones instead
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | awk '$4 == "online" {print $1, $2}' | while read -r v c; do
    pg_ctlcluster "$v" "$c" stop || true
  done
fi
# likewise nginx: scripts/cluster.sh runs its own, with its own configuration
if [[ " ${missing[*]} " == *" nginx "* ]] && [[ -s /run/nginx.pid ]]; then
  /usr/sbin/nginx -s quit 2>/dev/null || true
fi
echo "parley: system packages ready"
