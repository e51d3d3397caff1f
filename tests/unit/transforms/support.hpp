// Helpers shared by the built-in transform tests.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "conflux/transforms/builtin.hpp"

namespace conflux::test {

// Creates built-in stage `type` from `config`; the test fails when the config is rejected.
inline std::unique_ptr<engine::Transform> make_stage(const std::string& type, const nlohmann::ordered_json& config) {
  auto result = transforms::make_transform(type, config);
  INFO(result.status().to_string());
  REQUIRE(result.is_ok());
  return std::move(result).value();
}

// The message stage `type` rejects `config` with (kFailedPrecondition); the test fails when it is accepted.
inline std::string config_error(const std::string& type, const nlohmann::ordered_json& config) {
  auto result = transforms::make_transform(type, config);
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == StatusCode::kFailedPrecondition);
  return result.status().message();
}

}  // namespace conflux::test
