#include "conflux/common/logging.hpp"

#include <mutex>
#include <vector>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace conflux::logging {
namespace {

std::mutex& secrets_mutex() {
  static std::mutex m;
  return m;
}
std::vector<std::string>& secrets() {
  static std::vector<std::string> s;
  return s;
}

class RedactingSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  RedactingSink() : inner_(std::make_shared<spdlog::sinks::stderr_sink_mt>()) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string payload = redact(std::string(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy(msg.time, msg.source, msg.logger_name, msg.level, payload);
    inner_->log(copy);
  }
  void flush_() override { inner_->flush(); }
  void set_pattern_(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> formatter) override { inner_->set_formatter(std::move(formatter)); }

 private:
  std::shared_ptr<spdlog::sinks::stderr_sink_mt> inner_;
};

std::shared_ptr<spdlog::sinks::sink> shared_sink() {
  static std::shared_ptr<spdlog::sinks::sink> sink = [] {
    auto s = std::make_shared<RedactingSink>();
    s->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v",
                                                                 spdlog::pattern_time_type::utc));
    return s;
  }();
  return sink;
}

spdlog::level::level_enum& current_level() {
  static spdlog::level::level_enum level = spdlog::level::info;
  return level;
}

}  // namespace

std::shared_ptr<spdlog::logger> get(const std::string& name) {
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, shared_sink());
  logger->set_level(current_level());
  spdlog::register_logger(logger);
  return logger;
}

void add_secret(const std::string& secret) {
  if (secret.size() < 4) return;
  std::lock_guard<std::mutex> lock(secrets_mutex());
  // Callers may register the same value on every request (the HTTP client does): keep one copy.
  for (const std::string& known : secrets()) {
    if (known == secret) return;
  }
  secrets().push_back(secret);
}

void set_level(const std::string& level) {
  current_level() = spdlog::level::from_str(level);
  spdlog::set_level(current_level());
}

std::string redact(std::string text) {
  std::lock_guard<std::mutex> lock(secrets_mutex());
  for (const std::string& secret : secrets()) {
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

}  // namespace conflux::logging
