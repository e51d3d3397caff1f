#!/usr/bin/env bash
# Reference-job benchmark: Conflux vs DuckDB / Miller / pandas.
#
# usage: bench/run_reference.sh [ROWS]        (default 1000000)
#        bench/run_reference.sh --fixtures    (edge-case check only)
#
# 1. checks every peer (and Conflux, if configured) against the hand-written
#    edge cases in bench/fixtures/ (skip with BENCH_SKIP_FIXTURES=1);
# 2. generates bench/.data/customers_ROWS.csv once (seed 42; reused later);
# 3. runs each peer under /usr/bin/time -f '%e %M' (wall s, peak RSS KB),
#    writing bench/.data/out_ROWS/TOOL.jsonl;
# 4. compares all outputs (bench/compare_outputs.py) and prints the table.
# Exit status: 0 all outputs agree, 1 outputs differ or a tool failed, 2 usage.
#
# Environment:
#   CONFLUX_BIN          conflux executable (path or name on PATH); unset = skip
#   PYTHON               python with pandas (default /usr/bin/python3)
#   BENCH_DATA_DIR       data/output dir (default bench/.data)
#   BENCH_SEED           generator seed (default 42)
#   BENCH_SKIP_FIXTURES  1 = skip step 1
#   DUCKDB_THREADS       DuckDB threads (default 2)
#   BENCH_TOOLS          which tools to run, e.g. "duckdb conflux" for quick repeats (default: all four)
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
PYTHON=${PYTHON:-/usr/bin/python3}
DATA=${BENCH_DATA_DIR:-$BENCH_DIR/.data}
SEED=${BENCH_SEED:-42}
read -r -a TOOLS <<< "${BENCH_TOOLS:-duckdb miller pandas conflux}"

die() { echo "run_reference: $*" >&2; exit 2; }

# ---------------------------------------------------------------------------
# dependencies
check_deps() {
  local missing=()
  command -v node >/dev/null 2>&1 || missing+=("node")
  command -v mlr >/dev/null 2>&1 || missing+=("mlr (apt-get install -y miller)")
  [ -x /usr/bin/time ] || missing+=("/usr/bin/time (apt-get install -y time)")
  "$PYTHON" -c 'import pandas' >/dev/null 2>&1 || missing+=("pandas for $PYTHON (apt-get install -y python3-pandas)")
  if [ ${#missing[@]} -gt 0 ]; then
    printf 'run_reference: missing: %s\n' "${missing[@]}" >&2
    die "run bench/setup.sh first"
  fi
  if [ ! -d "$BENCH_DIR/node_modules/@duckdb/node-api" ]; then
    echo "run_reference: installing @duckdb/node-api (npm install in bench/)"
    (cd "$BENCH_DIR" && npm install --no-audit --no-fund >/dev/null) || die "npm install failed"
  fi
}

# ---------------------------------------------------------------------------
# peers: run_peer TOOL INPUT OUTPUT TIMEFILE
#   returns 0 ok, 3 skipped, anything else = failed
run_peer() {
  local tool=$1 in=$2 out=$3 tf=$4
  case $tool in
    duckdb) /usr/bin/time -f '%e %M' -o "$tf" node "$BENCH_DIR/peers/duckdb_job.mjs" "$in" "$out" ;;
    miller) /usr/bin/time -f '%e %M' -o "$tf" "$BENCH_DIR/peers/miller_job.sh" "$in" "$out" ;;
    pandas) /usr/bin/time -f '%e %M' -o "$tf" "$PYTHON" "$BENCH_DIR/peers/pandas_job.py" "$in" "$out" ;;
    conflux) run_conflux "$in" "$out" "$tf" ;;
    *) die "unknown tool $tool" ;;
  esac
}

# ===========================================================================
# CONFLUX HOOK
# Runs `$CONFLUX_BIN run bench/reference/conflux.yaml` from the repo root with
#   BENCH_INPUT  = absolute path of the input customer CSV
#   BENCH_OUTPUT = absolute path of the JSONL file the pipeline must write
# The pipeline (bench/reference/conflux.yaml, written by the Conflux side)
# must implement the reference job exactly as in bench/README.md.
# Skipped (return 3) when CONFLUX_BIN is unset or does not name an executable.
# ===========================================================================
CONFLUX_PIPELINE=bench/reference/conflux.yaml
run_conflux() {
  local in=$1 out=$2 tf=$3 bin
  if [ -z "${CONFLUX_BIN:-}" ]; then
    echo "conflux: skipped (CONFLUX_BIN is not set)"
    return 3
  fi
  bin=$(command -v -- "$CONFLUX_BIN" 2>/dev/null || true)
  if [ -z "$bin" ] || [ ! -x "$bin" ] || [ -d "$bin" ]; then
    echo "conflux: skipped (CONFLUX_BIN='$CONFLUX_BIN' is missing or not executable)"
    return 3
  fi
  if [ ! -f "$REPO/$CONFLUX_PIPELINE" ]; then
    echo "conflux: FAILED: pipeline $CONFLUX_PIPELINE not found (CONFLUX_BIN is set)" >&2
    return 1
  fi
  # A fresh state database each time: with the previous run's cursor the source would have nothing left to read.
  rm -f "$out" "$out.state.db" "$out.state.db-wal" "$out.state.db-shm"
  (cd "$REPO" && BENCH_INPUT="$in" BENCH_OUTPUT="$out" \
     /usr/bin/time -f '%e %M' -o "$tf" "$bin" run --progress never "$CONFLUX_PIPELINE")
}

# ---------------------------------------------------------------------------
# edge-case fixtures: every tool must reproduce the expected JSONL
run_fixtures() {
  local fx=$BENCH_DIR/fixtures work tool rc specs=() failed=0
  work=$(mktemp -d "${TMPDIR:-/tmp}/conflux-fixtures.XXXXXX")
  specs+=("expected=$fx/edge_cases.expected.jsonl")
  for tool in "${TOOLS[@]}"; do
    run_peer "$tool" "$fx/edge_cases.csv" "$work/$tool.jsonl" "$work/$tool.time" >"$work/$tool.log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
      specs+=("$tool=$work/$tool.jsonl")
    elif [ $rc -ne 3 ]; then
      echo "fixtures: $tool FAILED (exit $rc):"; sed 's/^/    /' "$work/$tool.log" | tail -20
      failed=1
    fi
  done
  echo "== edge-case fixtures (bench/fixtures/edge_cases.csv)"
  "$PYTHON" "$BENCH_DIR/compare_outputs.py" "${specs[@]}" || failed=1
  rm -rf "$work"
  return $failed
}

# ---------------------------------------------------------------------------
main() {
  local rows=${1:-1000000}
  if [ "$rows" = "--fixtures" ]; then
    check_deps
    run_fixtures
    exit $?
  fi
  [[ "$rows" =~ ^[1-9][0-9]*$ ]] || die "usage: bench/run_reference.sh [ROWS] | --fixtures"
  check_deps

  local status=0
  if [ "${BENCH_SKIP_FIXTURES:-0}" != 1 ]; then
    run_fixtures || { echo "run_reference: edge-case fixtures FAILED"; status=1; }
    echo
  fi

  mkdir -p "$DATA"
  local input=$DATA/customers_$rows.csv
  if [ "$SEED" != 42 ]; then input=$DATA/customers_${rows}_seed$SEED.csv; fi
  if [ -s "$input" ]; then
    echo "== input: $input (reused)"
  else
    echo "== input: generating $input ($rows rows, seed $SEED)"
    "$PYTHON" "$BENCH_DIR/gen_customers.py" --rows "$rows" --seed "$SEED" --out "$input" \
      || die "generator failed"
  fi
  input=$(cd "$(dirname "$input")" && pwd)/$(basename "$input")
  local outdir=$DATA/out_$rows
  rm -rf "$outdir"; mkdir -p "$outdir"
  outdir=$(cd "$outdir" && pwd)

  local tool rc specs=() results=() load0
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  for tool in "${TOOLS[@]}"; do
    local out=$outdir/$tool.jsonl tf=$outdir/$tool.time
    echo "== $tool"
    run_peer "$tool" "$input" "$out" "$tf" 2>&1 | tee "$outdir/$tool.log" | sed 's/^/    /'
    rc=${PIPESTATUS[0]}
    if [ "$rc" -eq 3 ]; then
      continue
    elif [ "$rc" -ne 0 ] || [ ! -f "$out" ]; then
      echo "    $tool FAILED (exit $rc)"
      results+=("$tool FAILED")
      status=1
      continue
    fi
    # GNU time writes "Command exited ..." lines first on failure; the last line is ours.
    results+=("$tool $(tail -n 1 "$tf")")
    specs+=("$tool=$out")
    echo "    $(tail -n 1 "$tf" | awk '{printf "%.2f s, peak RSS %.1f MB", $1, $2/1024}')"
  done

  echo
  echo "== compare outputs"
  if [ ${#specs[@]} -ge 1 ]; then
    "$PYTHON" "$BENCH_DIR/compare_outputs.py" "${specs[@]}" || status=1
  fi

  echo
  echo "== reference job, $rows input rows, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load avg before $load0"
  printf '%s\n' "${results[@]}" | awk -v rows="$rows" '
    { name[NR] = $1; if ($2 == "FAILED") { failed[NR] = 1 } else { sec[NR] = $2; kb[NR] = $3 }
      if ($1 == "duckdb" && !failed[NR]) { dsec = $2; dkb = $3 } }
    END {
      printf "%-8s %9s %12s %13s %14s %14s\n", "tool", "seconds", "records/s", "peak RSS MB", "speed vs duck", "mem vs duck"
      for (i = 1; i <= NR; i++) {
        if (failed[i]) { printf "%-8s %9s\n", name[i], "FAILED"; continue }
        s = sec[i] > 0 ? sec[i] : 0.01
        sp = dsec ? sprintf("%.2fx", dsec / s) : "-"
        mr = dkb ? sprintf("%.2fx", kb[i] / dkb) : "-"
        printf "%-8s %9.2f %12.0f %13.1f %14s %14s\n", name[i], sec[i], rows / s, kb[i] / 1024, sp, mr
      }
      print "speed vs duck = duckdb_seconds / tool_seconds (>1 faster than DuckDB); mem vs duck = tool_rss / duckdb_rss"
    }' | tee "$outdir/table.txt"
  echo "outputs: $outdir"
  if [ $status -ne 0 ]; then echo "run_reference: FAILED"; fi
  exit $status
}

main "$@"
