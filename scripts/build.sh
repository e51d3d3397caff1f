#!/usr/bin/env bash
# Configures and builds Conflux. Usage: scripts/build.sh [BUILD_DIR] [extra cmake -D options...]
# Warnings are errors here, as in CI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONFLUX_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
