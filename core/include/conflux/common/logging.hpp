// Logging: one named spdlog logger per subsystem and per plugin instance, all writing to stderr through a sink that
// replaces every registered secret with "***", so a secret resolved from ${env:..}/${file:..} never reaches a log.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace conflux::logging {

// The logger named `name` (e.g. "engine", "demo/meta_leads/csv"), created on first use.
std::shared_ptr<spdlog::logger> get(const std::string& name);
// Every later log line has `secret` replaced by "***". Values shorter than 4 characters are ignored (too common).
void add_secret(const std::string& secret);
// Applies the level to every existing and future logger ("debug", "info", "warn", "error", "off").
void set_level(const std::string& level);
// Replaces registered secrets in `text`; used by anything that prints user-visible text outside the logger.
std::string redact(std::string text);

}  // namespace conflux::logging
