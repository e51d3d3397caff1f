// Host-side definitions of the opaque handles conflux_abi.h declares. Private to the plugin host.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include "conflux/abi/conflux_abi.h"
#include "conflux/engine/stage.hpp"
#include "conflux/record/record.hpp"

struct conflux_error {
  std::string message;
};

struct conflux_text {
  std::string value;
};

// The memory behind the last conflux_http_response handed to a context's plugin (see http_request).
struct HttpResponseStorage {
  std::string body;
  std::string error;
  std::vector<std::string> header_text;  // name, value, name, value, ...
  std::vector<conflux_http_header> headers;
};

struct conflux_host_context {
  std::shared_ptr<spdlog::logger> logger;
  const std::atomic<bool>* cancelled = nullptr;
  std::unique_ptr<HttpResponseStorage> http_response;  // valid until the next http_request or http_response_free
};

struct conflux_batch {
  const std::string* stream = nullptr;
  const std::vector<conflux::Record>* records = nullptr;
};

struct conflux_results {
  std::vector<conflux::engine::WriteResult>* results = nullptr;
  std::vector<uint8_t> seen;  // 1 once a record has an outcome
  std::string misuse;         // first contract violation, reported after the call
  // delete_batch: outcomes are DELETED (stored as kUpdated), UNCHANGED (already gone) or REJECTED.
  bool deleting = false;
};

struct conflux_emitter {
  enum class Mode { kSource, kTransform };
  Mode mode = Mode::kSource;

  // kSource: records, invalid input, cursor and progress go here.
  conflux::engine::SourceBatch* source_batch = nullptr;

  // kTransform: one outcome per input index.
  size_t input_count = 0;
  std::vector<std::pair<uint64_t, conflux::Record>> outputs;
  struct Reject {
    uint64_t index;
    std::string reason;
    std::string raw;
    bool invalid;
  };
  std::vector<Reject> rejects;

  conflux::Record current;
  // Field names of the previous record, all distinct. Records of a batch look alike: while the current record's
  // names follow this list exactly (on_shape), a name equal to the next one in the list cannot already be in the
  // record and is appended without searching for it.
  std::vector<std::string> shape;
  bool on_shape = true;
  bool open = false;
  std::string misuse;  // first contract violation, reported after the call
};
