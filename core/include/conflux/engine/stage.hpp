// The host-side stage interfaces the engine drives. Built-in stages implement them directly; plugins are adapted to
// them by the plugin host (conflux/plugin_host). Nothing here knows about YAML or the C ABI.
//
// Kafka Connect's split: a source stream yields records and a cursor; a transform keeps, drops or rejects each
// record; a sink writes a batch and reports an outcome per record. The engine commits a cursor only after the sink
// has accepted every record read before it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conflux/common/status.hpp"
#include "conflux/record/record.hpp"

namespace conflux::engine {

// Input a source could not turn into a record (ragged CSV row, invalid UTF-8): kept verbatim for the dead letters.
struct InvalidInput {
  uint64_t position = 0;  // e.g. 1-based line number
  std::string reason;
  std::string raw;
};

// What one SourceStream::read call produced.
struct SourceBatch {
  std::vector<Record> records;
  std::vector<InvalidInput> invalid;
  std::optional<std::string> cursor;  // resume point after everything in this batch
  uint64_t progress_done = 0;         // for the progress display; total 0 = unknown
  uint64_t progress_total = 0;
  bool end = false;                   // the stream is exhausted

  void clear() {
    records.clear();
    invalid.clear();
    cursor.reset();
    end = false;
  }
};

class SourceStream {
 public:
  virtual ~SourceStream() = default;
  // Appends at most max_records records (and any invalid input met) to `out`; sets out.end when done.
  virtual Status read(size_t max_records, SourceBatch& out) = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // The streams this source reads when the pipeline names none.
  virtual Result<std::vector<std::string>> streams() = 0;
  // Opens `stream` to resume after `cursor` (empty: from the start).
  virtual Result<std::unique_ptr<SourceStream>> open(const std::string& stream, const std::string& cursor) = 0;
  virtual Status check() { return Status::ok(); }
  // JSON catalog: {"streams":[{"name":..,"fields":{..}}]}
  virtual Result<std::string> discover() { return std::string("{\"streams\":[]}"); }
};

// A record a transform took out of the flow, and why.
struct Rejected {
  Record record;
  std::string reason;
  bool invalid = false;  // true: the record is at fault (stage's on_invalid applies); false: dropped by a rule
};

class Transform {
 public:
  virtual ~Transform() = default;
  // Called once before the first batch. In a dry run a transform that keeps state of its own (the identity graph)
  // works as usual but saves nothing.
  virtual void start(bool /*dry_run*/) {}
  // Processes `records` in place. Records that go on stay in `records` (order kept); every other input record is
  // moved to `rejected`, so that records.size() + rejected.size() grows by exactly the input size.
  virtual Status apply(std::vector<Record>& records, std::vector<Rejected>& rejected) = 0;
  // Called once after the last batch; a transform that holds records back (dedupe keep: last) releases them here.
  virtual Status finish(std::vector<Record>& /*records*/, std::vector<Rejected>& /*rejected*/) { return Status::ok(); }
  // Called once after finish(): records this transform emitted in earlier runs that no longer stand (the golden
  // record of a profile merged into another). Each holds only the fields that identify it, in the shape the sink
  // received it; the engine deletes them from a sink that can delete and forgets them in the sink ledger.
  virtual std::vector<Record> withdrawn() { return {}; }
  // True when the transform keeps records across batches: the engine then commits cursors only at the end.
  virtual bool holds_records() const { return false; }
  // True when apply() on disjoint parts of a batch may run on several threads at once.
  virtual bool parallel_safe() const { return false; }
};

// Convenience base for transforms that look at one record at a time.
class RecordTransform : public Transform {
 public:
  enum class Verdict { kKeep, kDrop, kInvalid };
  // Edits `record` in place; for kDrop/kInvalid sets `reason`.
  virtual Verdict process(Record& record, std::string& reason) const = 0;
  Status apply(std::vector<Record>& records, std::vector<Rejected>& rejected) final;
  bool parallel_safe() const override { return true; }
};

enum class WriteOutcome { kCreated, kUpdated, kUnchanged, kRejected };

struct WriteResult {
  WriteOutcome outcome = WriteOutcome::kRejected;
  std::string message;  // why, for kRejected
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Writes `records` of `stream`; fills `results` with one entry per record. A non-OK status means the batch as a
  // whole failed and nothing of it may be assumed written.
  virtual Status write(const std::string& stream, const std::vector<Record>& records,
                       std::vector<WriteResult>& results) = 0;
  // Makes everything written so far durable; called before the engine commits cursors.
  virtual Status flush() { return Status::ok(); }
  virtual Status check() { return Status::ok(); }

  // Mirror sync (sink.sync.mirror): deletes the target's records whose key fields `key_fields` hold the values of
  // each entry of `keys` (one record's values per entry). `deleted[i]` says whether keys[i] was found and deleted.
  // Sinks that cannot delete keep the default, and a pipeline asking them to mirror is a configuration error.
  virtual bool can_delete() const { return false; }
  virtual Status remove(const std::vector<std::string>& /*key_fields*/,
                        const std::vector<std::vector<std::string>>& /*keys*/, std::vector<bool>& /*deleted*/) {
    return failed_precondition("this sink cannot delete records");
  }
};

}  // namespace conflux::engine
