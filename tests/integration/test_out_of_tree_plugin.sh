#!/usr/bin/env bash
# A plugin written outside this tree builds with find_package(conflux) against an installed SDK, and a pipeline
# run by the installed conflux uses it.
source "$(dirname "$0")/lib.sh"
: "${CONFLUX_BUILD_DIR:?set by CTest}"

cmake --install "$CONFLUX_BUILD_DIR" --prefix "$WORK/prefix" >install.log
[ -f "$WORK/prefix/include/conflux/abi/conflux_abi.h" ] || fail "ABI header not installed"
[ -f "$WORK/prefix/include/conflux/sdk/plugin.hpp" ] || fail "SDK header not installed"
[ -f "$WORK/prefix/lib/cmake/conflux/confluxConfig.cmake" ] || fail "CMake package not installed"
pass

cp -r "$CONFLUX_SOURCE_DIR/examples/name_splitter" plugin-src
cmake -S plugin-src -B plugin-build -DCMAKE_PREFIX_PATH="$WORK/prefix" >cmake.log 2>&1 || fail "configure: $(cat cmake.log)"
cmake --build plugin-build >build.log 2>&1 || fail "build: $(cat build.log)"
[ -f plugin-build/conflux-name_splitter.so ] || fail "plugin not built"
pass

printf 'full_name,email\nИванов Пётр,p@example.com\nSolo,s@example.com\n,e@example.com\n' >people.csv
cat >oot.yaml <<YAML
version: 1
pipeline: oot
settings: {plugin_dirs: ["$WORK/plugin-build"]}
sources:
  - name: people
    plugin: csv
    config: {path: people.csv}
stages:
  - name: split
    plugin: name_splitter
    config: {field: full_name, order: last_first}
sink:
  name: out
  plugin: jsonl
  config: {path: out.jsonl}
YAML
export CONFLUX_PLUGIN_PATH="$WORK/prefix/lib/conflux/plugins"
CONFLUX_BIN="$WORK/prefix/bin/conflux" run_conflux run oot.yaml --json
expect_code 0
expect_eq "$(summary_field written)" "3" "records written through the out-of-tree plugin"
grep -q '"first_name":"Пётр","last_name":"Иванов"' out.jsonl || fail "split name missing: $(cat out.jsonl)"
grep -q '"full_name":"Solo","email":"s@example.com","first_name":"Solo"}' out.jsonl || fail "single word: $(cat out.jsonl)"
pass
CONFLUX_BIN="$WORK/prefix/bin/conflux" run_conflux plugins info name_splitter --plugin-dir "$WORK/plugin-build"
expect_code 0
expect_out '"kinds": "transform"'
done_ok
