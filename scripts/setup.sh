#!/usr/bin/env bash
# First command of the README: install what is needed, build, and run the demo pipeline on the embedded default
# (SQLite state + local CRM), printing its run summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build"
echo
echo "== demo: conflux run configs/demo/pipeline.yaml"
"$root/build/core/conflux" run "$root/configs/demo/pipeline.yaml"
echo
echo "contacts in the local CRM: $("$root/build/core/conflux" crm count "$root/configs/demo/pipeline.yaml")"
echo "try: build/core/conflux crm list configs/demo/pipeline.yaml --limit 5"
echo "     build/core/conflux dlq list configs/demo/pipeline.yaml"
