#!/usr/bin/env bash
# Identity-resolution benchmark: scored comparisons per second per core, and N records resolved end to end with the
# peak RSS. Usage: bench/identity/run.sh [PEOPLE]   (default 400000 people, about 1,000,000 records)
#   CONFLUX_BIN   the conflux binary (default build/core/conflux)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CONFLUX_BIN:-$ROOT/build/core/conflux}
PEOPLE=${1:-400000}
DATA_DIR=$ROOT/bench/.data
mkdir -p "$DATA_DIR"
DATA=$DATA_DIR/people_$PEOPLE.csv
if [ ! -f "$DATA" ]; then
  echo "generating $DATA ..." >&2
  python3 "$ROOT/bench/identity/gen_people.py" --people "$PEOPLE" --seed 42 > "$DATA.tmp" && mv "$DATA.tmp" "$DATA"
fi
echo "== $(nproc) cores, $(($(wc -l < "$DATA") - 1)) records, config configs/identity/people.yaml"
/usr/bin/time -f 'wall %e s, peak RSS %M KB' "$BIN" identity bench --data "$DATA" --format generic --truth person_id \
  --config "$ROOT/configs/identity/people.yaml" --random-pairs 5000000
echo "== FEBRL3 (8 compared fields): scoring rate"
FEBRL=${CONFLUX_IDENTITY_DATA:-/work/shared/data/identity}/febrl/dataset3.csv
if [ -f "$FEBRL" ]; then
  "$BIN" identity bench --data "$FEBRL" --format febrl --config "$ROOT/configs/identity/febrl.yaml" --random-pairs 5000000 | tail -1
fi
