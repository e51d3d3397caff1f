#!/usr/bin/env bash
# Second command of the README: install, build, and run every test (unit and integration) with CTest.
# CONFLUX_TEST_SANITIZE=0 skips the AddressSanitizer/UBSan pass over the unit tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build"
cd "$root/build"
ctest --output-on-failure -j2 --timeout 900
