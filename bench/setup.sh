#!/usr/bin/env bash
# Install everything the reference-job benchmark needs (Debian 12, as root).
#   apt: miller (mlr), python3-pandas, time (/usr/bin/time), nodejs/npm if
#        missing, python3-phonenumbers (only for bench/check_phones.py)
#   npm: @duckdb/node-api into bench/node_modules (from package-lock.json)
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

pkgs=()
command -v mlr >/dev/null 2>&1 || pkgs+=(miller)
[ -x /usr/bin/time ] || pkgs+=(time)
/usr/bin/python3 -c 'import pandas' >/dev/null 2>&1 || pkgs+=(python3-pandas)
/usr/bin/python3 -c 'import phonenumbers' >/dev/null 2>&1 || pkgs+=(python3-phonenumbers)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
if [ ${#pkgs[@]} -gt 0 ]; then
  echo "setup: apt-get install ${pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}"
fi

if [ ! -d "$BENCH_DIR/node_modules/@duckdb/node-api" ]; then
  # `npm install`, not `npm ci`: the registry mirror here lacks the other
  # platforms' optional @duckdb/node-bindings-* packages, so the lock file
  # only lists linux-x64 ones and `npm ci` rejects it as out of sync.
  echo "setup: npm install (bench/node_modules, from package-lock.json)"
  (cd "$BENCH_DIR" && npm install --no-audit --no-fund)
fi
echo "setup: ok"
