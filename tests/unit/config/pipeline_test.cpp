#include "conflux/config/pipeline.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "../test_support.hpp"

using namespace conflux;
using namespace conflux::config;

namespace {
std::string write(const test::TempDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir.file(name)) << text;
  return dir.file(name);
}
}  // namespace

TEST_CASE("YAML values keep their source locations", "[config]") {
  auto doc = parse_yaml("a: 1\nlist:\n  - x: \"1\"\n    y: yes\n", "f.yaml");
  REQUIRE(doc);
  CHECK(doc->root["a"] == 1);
  CHECK(doc->root["list"][0]["x"] == "1");  // quoted stays a string
  CHECK(doc->root["list"][0]["y"] == "yes");  // YAML 1.2 core: only true/false are booleans
  CHECK(doc->locate("/list/0/y").line == 4);
  CHECK(doc->locate("/list/0/y").column == 8);
  CHECK(doc->locate_key("/list/0/y").column == 5);
  CHECK(doc->locate("/list/0/y/deeper").line == 4);
}

TEST_CASE("YAML syntax errors carry file:line:col", "[config]") {
  auto doc = parse_yaml("a: [1, 2\nb: 3\n", "broken.yaml");
  REQUIRE(!doc);
  CHECK(doc.status().message().find("broken.yaml:") == 0);
}

TEST_CASE("suggestions find near-miss names only", "[config]") {
  CHECK(nearest_name("plugn", {"plugin", "stages"}) == "plugin");
  CHECK(nearest_name("xyz", {"plugin", "stages"}).empty());
  CHECK(did_you_mean("setings", {"settings"}) == " (did you mean 'settings'?)");
}

TEST_CASE("pipeline loads with references resolved and relative paths anchored", "[config]") {
  test::TempDir dir;
  write(dir, "token.txt", "s3cret-token\n");
  setenv("CONFLUX_UNIT_TEST_PATH", "people.csv", 1);
  std::string path = write(dir, "p.yaml", R"(version: 1
pipeline: unit
sources:
  - name: people
    plugin: csv
    config: {path: "${env:CONFLUX_UNIT_TEST_PATH}", token: "${file:token.txt}", note: "$${literal}"}
sink: {name: crm, type: local_crm}
)");
  std::vector<Diagnostic> diagnostics;
  auto config = load_pipeline(path, diagnostics);
  REQUIRE(diagnostics.empty());
  REQUIRE(config);
  CHECK(config->sources[0].config["path"] == (dir.path() / "people.csv").string());
  CHECK(config->sources[0].config["token"] == "s3cret-token");
  CHECK(config->sources[0].config["note"] == "${literal}");
  CHECK(std::find(config->secrets.begin(), config->secrets.end(), "s3cret-token") != config->secrets.end());
  CHECK(config->state_path == (dir.path() / ".conflux/state.db").string());
}

TEST_CASE("pipeline problems are all reported with locations", "[config]") {
  test::TempDir dir;
  std::string path = write(dir, "p.yaml", R"(version: 2
pipeline: unit
sources:
  - name: people
    plugn: csv
sink: {name: people, type: local_crm}
)");
  std::vector<Diagnostic> diagnostics;
  auto config = load_pipeline(path, diagnostics);
  REQUIRE(!config);
  std::string all;
  for (const auto& d : diagnostics) all += d.to_string() + "\n";
  CHECK(all.find("p.yaml:5:5: unknown key 'plugn' in a source (did you mean 'plugin'?)") != std::string::npos);
  CHECK(all.find("p.yaml:1:10:") != std::string::npos);  // version must be 1
}

TEST_CASE("a rest source's config is checked against the pipeline schema with suggestions", "[config][rest]") {
  test::TempDir dir;
  std::string path = write(dir, "p.yaml", R"(version: 1
pipeline: unit
sources:
  - name: api
    type: rest
    config:
      base_url: https://api.example.com
      streams:
        - name: people
          path: /people
          record_selecter: /results
          paginator: {type: ofset, page_size: 10}
          incremental: {cursor_field: updated, request_parm: since}
sink: {name: crm, type: local_crm}
)");
  std::vector<Diagnostic> diagnostics;
  auto config = load_pipeline(path, diagnostics);
  REQUIRE(!config);
  std::string all;
  for (const auto& d : diagnostics) all += d.to_string() + "\n";
  INFO(all);
  CHECK(all.find("p.yaml:11:11: unknown key 'record_selecter' in a stream (did you mean 'record_selector'?)") !=
        std::string::npos);
  CHECK(all.find("p.yaml:12:29: unknown paginator type 'ofset' (did you mean 'offset'?)") != std::string::npos);
  CHECK(all.find("unknown key 'request_parm' in incremental (did you mean 'request_param'?)") != std::string::npos);
  CHECK(all.find("p.yaml:13:24:") != std::string::npos);  // request_param is required
  CHECK(all.find("Failed to match against any enum") == std::string::npos);  // said once, with the suggestion

  // A plugin source and a rest source both need exactly one of type and plugin.
  path = write(dir, "q.yaml", R"(version: 1
pipeline: unit
sources:
  - {name: a, type: rest, plugin: csv, config: {base_url: "https://x", streams: [{name: s, path: /s}]}}
  - {name: b}
sink: {name: crm, type: local_crm}
)");
  diagnostics.clear();
  REQUIRE(!load_pipeline(path, diagnostics));
  CHECK(diagnostics.size() >= 2);
}
