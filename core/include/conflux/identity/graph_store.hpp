// The persistent identity graph, kept in the pipeline's state database (tables identity_*, docs/state.md): which
// profile every record belongs to, the identifiers of every profile, the merge log with its evidence, unmerge pins
// and the model of the last run. Profile ids are "P" + a zero-padded sequence number; a lower number is older.
//
// Used by the identity stage (at the end of a run) and by `conflux profiles`. One thread at a time per instance.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "conflux/common/status.hpp"
#include "conflux/state/sqlite.hpp"

namespace conflux::identity {

struct StoredRecord {
  std::string key;
  std::string profile_id;
  std::string source;
  std::string seen_at;
  std::string record_json;  // the record as the identity stage last saw it
};

struct StoredPin {
  std::string record_key;
  int64_t unmerge_id = 0;
  int64_t part = 0;
};

struct MergeEntry {
  std::string surviving;
  std::string absorbed;
  std::string evidence_json;
  std::string merged_at;
};

// Everything one run of the identity stage makes durable, in one transaction.
struct GraphUpdate {
  std::string pipeline;
  std::vector<std::pair<std::string, int64_t>> new_profiles;  // id, seq
  std::vector<StoredRecord> records;                          // upserted
  std::vector<std::pair<std::string, std::string>> absorbed;  // absorbed id -> surviving id
  std::vector<MergeEntry> merges;
  std::vector<std::tuple<std::string, std::string, std::string>> identifiers;  // kind, value, profile
  std::string model_json;
};

std::string format_profile_id(int64_t seq);

class GraphStore {
 public:
  // Opens (and migrates) the state database at `path`. create=false: a missing file is kNotFound.
  static Result<GraphStore> open(const std::string& path, bool create = true);

  Result<std::vector<StoredRecord>> records(const std::string& pipeline);
  Result<std::vector<StoredRecord>> profile_records(const std::string& pipeline, const std::string& profile_id);
  // id -> seq of every profile that was not absorbed.
  Result<std::map<std::string, int64_t>> live_profiles(const std::string& pipeline);
  // Profiles merged into another one (their golden records no longer stand), oldest merge first.
  Result<std::vector<std::string>> merged_profiles(const std::string& pipeline);
  // The profile an absorbed id now lives in (following merges); nullopt when `profile_id` was never issued.
  Result<std::optional<std::string>> resolve_profile(const std::string& pipeline, const std::string& profile_id);
  Result<int64_t> next_seq(const std::string& pipeline);
  Result<std::vector<StoredPin>> pins(const std::string& pipeline);
  Result<std::vector<MergeEntry>> merges(const std::string& pipeline, const std::string& profile_id);
  Result<std::string> model_json(const std::string& pipeline);

  Status save(const GraphUpdate& update);
  // Moves `record_keys` (records of `profile_id`) into a new profile and pins both parts apart for later runs.
  // Errors: kNotFound for an unknown profile, kFailedPrecondition when a key is not in the profile or would take
  // all of it. Returns the new profile's id.
  Result<std::string> unmerge(const std::string& pipeline, const std::string& profile_id,
                              const std::vector<std::string>& record_keys);

 private:
  explicit GraphStore(state::sqlite::Database db) : db_(std::move(db)) {}
  state::sqlite::Database db_;
};

}  // namespace conflux::identity
