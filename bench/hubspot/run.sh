#!/usr/bin/env bash
# Throughput of the hubspot sink against its rate-limit bound: the fake HubSpot (loopback) enforces HubSpot's
# 100 requests per 10 s per token, the sink upserts N contacts (default 100,000) in batches of 100, so the bound is
# 100 x 100 / 10 s = 1000 records/s. Prints records/s and its share of the bound, the 429s the fake answered
# (/__stats) and the peak RSS of `conflux run` (/usr/bin/time). At the bound, 100,000 contacts take 100 s.
#
#   bench/hubspot/run.sh [BUILD_DIR]          N=20000 bench/hubspot/run.sh   (a shorter run)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
N=${N:-100000}
CONFLUX="$BUILD/core/conflux"
FAKE="$BUILD/tests/support/fake_server/conflux-fake-server"
for f in "$CONFLUX" "$FAKE" /usr/bin/time; do [ -x "$f" ] || { echo "missing $f (build first)" >&2; exit 2; }; done

WORK=$(mktemp -d /tmp/conflux-bench-hubspot.XXXXXX)
FAKE_PID=
cleanup() { [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
cd "$WORK"

TOKEN=pat-bench-0001
python3 - "$N" <<'PY' >contacts.jsonl
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"email": "c%d@bench.example" % i, "firstname": "First%d" % i, "lastname": "Last%d" % i,
                      "phone": "+7912%07d" % i}))
PY
echo "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"},
       \"hubspot\": {\"rate_limit_requests\": 100, \"rate_limit_window_ms\": 10000}}" >fake.json
"$FAKE" --dialect hubspot --data fake.json >port.txt 2>fake.err &
FAKE_PID=$!
for _ in $(seq 100); do [ -s port.txt ] && break; sleep 0.05; done
BASE="http://127.0.0.1:$(head -1 port.txt)"

cat >bench.yaml <<YAML
version: 1
pipeline: bench_hubspot
settings: {batch_size: 1000}
sources:
  - name: file
    plugin: jsonl
    config: {path: contacts.jsonl}
sink:
  name: hubspot
  plugin: hubspot
  config: {base_url: "$BASE", access_token: "\${env:HUBSPOT_TOKEN}", object: contacts, batch_size: 100}
YAML
export HUBSPOT_TOKEN=$TOKEN CONFLUX_LOG_LEVEL=error
start=$(date +%s.%N)
/usr/bin/time -v -o time.txt "$CONFLUX" run bench.yaml --json >summary.json
end=$(date +%s.%N)
stats=$(python3 -c "import urllib.request as u; print(u.urlopen('$BASE/__stats').read().decode())")
python3 - "$start" "$end" "$stats" <<'PY'
import json, re, sys
start, end, stats = float(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
summary = json.load(open("summary.json"))
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open("time.txt").read()).group(1))
seconds = end - start
written = summary["written"]
rate = written / seconds
bound = 100 * 100 / 10.0
print(f"status              {summary['status']}")
print(f"records written     {written} of {summary['in']} (dead-lettered {summary['dead_lettered']})")
print(f"wall time           {seconds:.1f} s")
print(f"throughput          {rate:.0f} records/s = {100 * rate / bound:.1f}% of the bound ({bound:.0f}/s)")
print(f"requests            {stats['requests']} (429: {stats['by_status'].get('429', 0)}, "
      f"most in any 10 s: {stats['max_requests_in_10s']})")
print(f"peak RSS            {rss_kb / 1024:.1f} MiB")
PY
