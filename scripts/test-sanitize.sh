#!/usr/bin/env bash
# Builds with AddressSanitizer + UndefinedBehaviorSanitizer into build-sanitize/ and runs the tests there.
# Usage: scripts/test-sanitize.sh [ctest -R regex]   (default: every test)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build-sanitize" -DCONFLUX_SANITIZE=ON
cd "$root/build-sanitize"
# Plugins are dlopen'ed by an instrumented host; leak checks at exit would flag libraries that are never unloaded
# on purpose (a hung plugin), so leaks are checked by the unit tests' own process only.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export CONFLUX_SANITIZED=1  # tests that measure memory skip themselves
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --output-on-failure -j2 --timeout 1200 ${1:+-R "$1"}
