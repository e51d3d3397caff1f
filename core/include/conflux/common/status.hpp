// Status and Result<T>: how the host reports failures without exceptions.
//
// The code says what the caller should do next, not what went wrong; the message says what went wrong in words a
// user can act on. Exceptions are used only at start-up and config load and are converted at module edges.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace conflux {

enum class StatusCode {
  kOk = 0,
  kUnavailable,         // transient: retry later (network, 429, 5xx, a locked database)
  kInvalidRecord,       // the record is at fault: dead-letter it, go on with the rest
  kFailedPrecondition,  // configuration, credentials or environment must be fixed first; do not retry
  kNotFound,            // a named thing (file, plugin, profile, stream) does not exist
  kDeadlineExceeded,    // an operation ran out of time
  kCancelled,           // the user asked to stop
  kDataLoss,            // stored state is corrupt or unreadable
  kInternal,            // a bug or an unexpected fault: give up the run
  kResourceExhausted,   // a platform quota (e.g. a daily limit) is used up: stop cleanly, resume in its next window
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // True when retrying the same operation later may succeed.
  bool retryable() const { return code_ == StatusCode::kUnavailable || code_ == StatusCode::kDeadlineExceeded; }
  // "code: message", for logs and CLI output.
  std::string to_string() const;
  // Returns a copy whose message is "context: message".
  Status with_context(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status invalid_record(std::string m) { return {StatusCode::kInvalidRecord, std::move(m)}; }
inline Status failed_precondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status deadline_exceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status data_loss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status internal_error(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status resource_exhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design, like absl::StatusOr
  Result(Status status) : state_(std::move(status)) { assert(!std::get<Status>(state_).is_ok()); }  // NOLINT

  bool is_ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOkStatus;
    return is_ok() ? kOkStatus : std::get<Status>(state_);
  }
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace conflux

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define CONFLUX_RETURN_IF_ERROR(expr)        \
  do {                                       \
    ::conflux::Status conflux_status_ = (expr); \
    if (!conflux_status_.is_ok()) return conflux_status_; \
  } while (0)
