#!/usr/bin/env bash
# Streaming keeps memory flat: peak RSS of the same pipeline over 10x more input stays about the same.
source "$(dirname "$0")/lib.sh"
if [ -n "${CONFLUX_SANITIZED:-}" ]; then
  # AddressSanitizer quarantines freed memory (up to 256 MiB), so RSS says nothing about the program's own use.
  echo "SKIP: peak-memory check is meaningless under AddressSanitizer"
  exit 0
fi

python3 - <<'PY'
for name, rows in (("small.csv", 40000), ("large.csv", 400000)):
    with open(name, "w") as f:
        f.write("id,name,email,note\n")
        for i in range(rows):
            f.write(f"{i}, Person {i} , P{i}@Example.COM ,{'x' * (i % 90)}\n")
PY
for size in small large; do
  cat >"$size.yaml" <<YAML
version: 1
pipeline: memory_$size
state: {path: $size-state.db}
sources:
  - {name: people, plugin: csv, config: {path: $size.csv}}
stages:
  - {name: tidy, type: clean, trim: true}
  - {name: email, type: email, field: email}
sink: {name: out, plugin: jsonl, config: {path: $size.jsonl}}
YAML
done

# Peak RSS (KiB) of one run, from the kernel's accounting of the child.
peak_rss() {
  python3 - "$CONFLUX_BIN" "$1" <<'PY'
import os, subprocess, sys
p = subprocess.Popen([sys.argv[1], "run", sys.argv[2], "--progress", "never"], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(p.pid, 0)
if status != 0:
    sys.exit(f"run failed: {status}")
print(usage.ru_maxrss)
PY
}
small=$(peak_rss small.yaml)
large=$(peak_rss large.yaml)
echo "peak RSS: 40k rows ${small} KiB, 400k rows ${large} KiB"
expect_eq "$(wc -l <large.jsonl)" "400000" "records written from the large input"
# 10x the input may cost a little (allocator high-water marks), never proportionally more.
[ "$large" -lt $((small * 3 / 2 + 8192)) ] || fail "peak memory grew with input: ${small} KiB -> ${large} KiB"
pass
done_ok
