#include "conflux/http/message.hpp"

#include <cctype>

namespace conflux::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return std::nullopt;
}

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNone: return "ok";
    case ErrorKind::kNetwork: return "network error";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kTruncated: return "truncated response";
    case ErrorKind::kRateLimited: return "rate limited";
    case ErrorKind::kServer: return "server error";
    case ErrorKind::kQuotaExhausted: return "quota exhausted";
    case ErrorKind::kAuth: return "authentication failed";
    case ErrorKind::kClient: return "request rejected";
    case ErrorKind::kConfig: return "configuration error";
    case ErrorKind::kCancelled: return "cancelled";
  }
  return "unknown";
}

bool is_transient(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNetwork:
    case ErrorKind::kTimeout:
    case ErrorKind::kTruncated:
    case ErrorKind::kRateLimited:
    case ErrorKind::kServer: return true;
    default: return false;
  }
}

Status Outcome::to_status() const {
  switch (kind) {
    case ErrorKind::kNone: return Status::ok();
    case ErrorKind::kTimeout: return deadline_exceeded(message);
    case ErrorKind::kNetwork:
    case ErrorKind::kTruncated:
    case ErrorKind::kRateLimited:
    case ErrorKind::kServer: return unavailable(message);
    case ErrorKind::kQuotaExhausted: return resource_exhausted(message);
    case ErrorKind::kAuth:
    case ErrorKind::kConfig: return failed_precondition(message);
    case ErrorKind::kCancelled: return cancelled(message);
    case ErrorKind::kClient: return internal_error(message);
  }
  return internal_error(message);
}

}  // namespace conflux::http
