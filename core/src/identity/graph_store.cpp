#include "conflux/identity/graph_store.hpp"

#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "conflux/state/sqlite_state_store.hpp"

namespace conflux::identity {

namespace sqlite = state::sqlite;

std::string format_profile_id(int64_t seq) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "P%08lld", static_cast<long long>(seq));
  return buffer;
}

Result<GraphStore> GraphStore::open(const std::string& path, bool create) {
  state::SqliteOptions options;
  options.create_if_missing = create;
  auto db = sqlite::open_with_schema(path, "state database", options, state::state_application_id(),
                                     state::state_schema_migrations());
  if (!db) return db.status();
  return GraphStore(std::move(db.value()));
}

namespace {

Result<std::vector<StoredRecord>> read_records(sqlite::Statement& st) {
  std::vector<StoredRecord> out;
  for (;;) {
    auto row = st.step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back({st.column_text(0), st.column_text(1), st.column_text(2), st.column_text(3), st.column_text(4)});
  }
  return out;
}

}  // namespace

Result<std::vector<StoredRecord>> GraphStore::records(const std::string& pipeline) {
  auto st = db_.prepare(
      "SELECT record_key, profile_id, source, seen_at, record_json FROM identity_records WHERE pipeline = ?1 "
      "ORDER BY seen_at, record_key");
  if (!st) return st.status();
  CONFLUX_RETURN_IF_ERROR(st->bind_text(1, pipeline));
  return read_records(*st);
}

Result<std::vector<StoredRecord>> GraphStore::profile_records(const std::string& pipeline, const std::string& profile_id) {
  auto st = db_.prepare(
      "SELECT record_key, profile_id, source, seen_at, record_json FROM identity_records WHERE pipeline = ?1 AND "
      "profile_id = ?2 ORDER BY seen_at, record_key");
  if (!st) return st.status();
  CONFLUX_RETURN_IF_ERROR(st->bind_text(1, pipeline));
  CONFLUX_RETURN_IF_ERROR(st->bind_text(2, profile_id));
  return read_records(*st);
}

Result<std::map<std::string, int64_t>> GraphStore::live_profiles(const std::string& pipeline) {
  auto st = db_.prepare("SELECT profile_id, seq FROM identity_profiles WHERE pipeline = ?1 AND merged_into IS NULL");
  if (!st) return st.status();
  CONFLUX_RETURN_IF_ERROR(st->bind_text(1, pipeline));
  std::map<std::string, int64_t> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.status();
    if (!*row) break;
    out.emplace(st->column_text(0), st->column_int64(1));
  }
  return out;
}

Result<std::vector<std::string>> GraphStore::merged_profiles(const std::string& pipeline) {
  auto st = db_.prepare(
      "SELECT profile_id FROM identity_profiles WHERE pipeline = ?1 AND merged_into IS NOT NULL ORDER BY seq");
  if (!st) return st.status();
  CONFLUX_RETURN_IF_ERROR(st->bind_text(1, pipeline));
  std::vector<std::string> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back(st->column_text(0));
  }
  return out;
}

Result<std::optional<std::string>> GraphStore::resolve_profile(const std::string& pipeline, const std::string& profile_id) {
  std::string current = profile_id;
  for (int hops = 0; hops < 1000; ++hops) {
    auto st = db_.prepare("SELECT merged_into FROM identity_profiles WHERE pipeline = ?1 AND profile_id = ?2");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR(st->bind_text(1, pipeline));
    CONFLUX_RETURN_IF_ERROR(st->bind_text(2, current));
    auto row = st->step();
    if (!row) return row.status();
    if (!*row) return std::optional<std::string>();
    if (st->column_is_null(0)) return std::optional<std::string>(current);
    current = st->column_text(0);
  }
  return data_loss("identity graph: the merge chain of profile '" + profile_id + "' does not end");
}

Result<int64_t> GraphStore::next_seq(const std::string& pipeline) {
  auto st = db_.prepare("SELECT coalesce(max(seq), 0) + 1 FROM identity_profiles WHERE pipeline = ?1");
  if (!st) return st.status();
  CONFLUX_RETURN_IF_ERROR(st->bind_text(1, pipeline));
  auto row = st->step();
  if (!row) return row.status();
  return st->column_int64(0);
}

Result<std::vector<StoredPin>> GraphStore::pins(const std::string& pipeline) {
  auto st = db_.prepare("SELECT record_key, unmerge_id, part FROM identity_pins WHERE pipeline = ?1");
  if (!st) return st.status();
  CONFLUX_RETURN_IF_ERROR(st->bind_text(1, pipeline));
  std::vector<StoredPin> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back({st->column_text(0), st->column_int64(1), st->column_int64(2)});
  }
  return out;
}

Result<std::vector<MergeEntry>> GraphStore::merges(const std::string& pipeline, const std::string& profile_id) {
  auto st = db_.prepare(
      "SELECT surviving, absorbed, evidence_json, merged_at FROM identity_merges WHERE pipeline = ?1 AND "
      "(surviving = ?2 OR absorbed = ?2) ORDER BY id");
  if (!st) return st.status();
  CONFLUX_RETURN_IF_ERROR(st->bind_text(1, pipeline));
  CONFLUX_RETURN_IF_ERROR(st->bind_text(2, profile_id));
  std::vector<MergeEntry> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back({st->column_text(0), st->column_text(1), st->column_text(2), st->column_text(3)});
  }
  return out;
}

Result<std::string> GraphStore::model_json(const std::string& pipeline) {
  auto st = db_.prepare("SELECT model_json FROM identity_models WHERE pipeline = ?1");
  if (!st) return st.status();
  CONFLUX_RETURN_IF_ERROR(st->bind_text(1, pipeline));
  auto row = st->step();
  if (!row) return row.status();
  return *row ? st->column_text(0) : std::string();
}

Status GraphStore::save(const GraphUpdate& update) {
  auto tx = sqlite::Transaction::begin(db_);
  if (!tx) return tx.status();
  const std::string now = sqlite::kSqlUtcNow;
  {
    auto st = db_.prepare("INSERT OR IGNORE INTO identity_profiles (pipeline, profile_id, seq, created_at) VALUES (?1, ?2, ?3, " + now + ")");
    if (!st) return st.status();
    for (const auto& [id, seq] : update.new_profiles) {
      CONFLUX_RETURN_IF_ERROR(st->bind_text(1, update.pipeline));
      CONFLUX_RETURN_IF_ERROR(st->bind_text(2, id));
      CONFLUX_RETURN_IF_ERROR(st->bind_int64(3, seq));
      CONFLUX_RETURN_IF_ERROR(st->run());
      st->reset();
    }
  }
  {
    auto st = db_.prepare(
        "INSERT INTO identity_records (pipeline, record_key, profile_id, source, seen_at, record_json) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (pipeline, record_key) DO UPDATE SET profile_id = excluded.profile_id, "
        "source = excluded.source, seen_at = excluded.seen_at, record_json = excluded.record_json");
    if (!st) return st.status();
    for (const StoredRecord& r : update.records) {
      CONFLUX_RETURN_IF_ERROR(st->bind_text(1, update.pipeline));
      CONFLUX_RETURN_IF_ERROR(st->bind_text(2, r.key));
      CONFLUX_RETURN_IF_ERROR(st->bind_text(3, r.profile_id));
      CONFLUX_RETURN_IF_ERROR(st->bind_text(4, r.source));
      CONFLUX_RETURN_IF_ERROR(st->bind_text(5, r.seen_at));
      CONFLUX_RETURN_IF_ERROR(st->bind_text(6, r.record_json));
      CONFLUX_RETURN_IF_ERROR(st->run());
      st->reset();
    }
  }
  {
    auto st = db_.prepare("UPDATE identity_profiles SET merged_into = ?3 WHERE pipeline = ?1 AND profile_id = ?2");
    // The surviving profile may already hold the same identifier: OR IGNORE keeps its row, the DELETE drops the copy.
    auto ids = db_.prepare("UPDATE OR IGNORE identity_identifiers SET profile_id = ?3 WHERE pipeline = ?1 AND profile_id = ?2");
    auto left = db_.prepare("DELETE FROM identity_identifiers WHERE pipeline = ?1 AND profile_id = ?2");
    if (!left) return left.status();
    if (!st) return st.status();
    if (!ids) return ids.status();
    for (const auto& [absorbed, surviving] : update.absorbed) {
      for (auto* s : {&st.value(), &ids.value()}) {
        CONFLUX_RETURN_IF_ERROR(s->bind_text(1, update.pipeline));
        CONFLUX_RETURN_IF_ERROR(s->bind_text(2, absorbed));
        CONFLUX_RETURN_IF_ERROR(s->bind_text(3, surviving));
      }
      CONFLUX_RETURN_IF_ERROR(st->run());
      st->reset();
      CONFLUX_RETURN_IF_ERROR(ids->run());
      ids->reset();
      CONFLUX_RETURN_IF_ERROR(left->bind_text(1, update.pipeline));
      CONFLUX_RETURN_IF_ERROR(left->bind_text(2, absorbed));
      CONFLUX_RETURN_IF_ERROR(left->run());
      left->reset();
    }
  }
  {
    auto st = db_.prepare("INSERT INTO identity_merges (pipeline, surviving, absorbed, evidence_json, merged_at) VALUES (?1, ?2, ?3, ?4, " + now + ")");
    if (!st) return st.status();
    for (const MergeEntry& m : update.merges) {
      CONFLUX_RETURN_IF_ERROR(st->bind_text(1, update.pipeline));
      CONFLUX_RETURN_IF_ERROR(st->bind_text(2, m.surviving));
      CONFLUX_RETURN_IF_ERROR(st->bind_text(3, m.absorbed));
      CONFLUX_RETURN_IF_ERROR(st->bind_text(4, m.evidence_json));
      CONFLUX_RETURN_IF_ERROR(st->run());
      st->reset();
    }
  }
  {
    auto st = db_.prepare("INSERT OR IGNORE INTO identity_identifiers (pipeline, kind, value, profile_id) VALUES (?1, ?2, ?3, ?4)");
    if (!st) return st.status();
    for (const auto& [kind, value, profile] : update.identifiers) {
      CONFLUX_RETURN_IF_ERROR(st->bind_text(1, update.pipeline));
      CONFLUX_RETURN_IF_ERROR(st->bind_text(2, kind));
      CONFLUX_RETURN_IF_ERROR(st->bind_text(3, value));
      CONFLUX_RETURN_IF_ERROR(st->bind_text(4, profile));
      CONFLUX_RETURN_IF_ERROR(st->run());
      st->reset();
    }
  }
  if (!update.model_json.empty()) {
    auto st = db_.prepare("INSERT INTO identity_models (pipeline, model_json, updated_at) VALUES (?1, ?2, " + now +
                          ") ON CONFLICT (pipeline) DO UPDATE SET model_json = excluded.model_json, updated_at = excluded.updated_at");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR(st->bind_text(1, update.pipeline));
    CONFLUX_RETURN_IF_ERROR(st->bind_text(2, update.model_json));
    CONFLUX_RETURN_IF_ERROR(st->run());
  }
  return tx->commit();
}

Result<std::string> GraphStore::unmerge(const std::string& pipeline, const std::string& profile_id,
                                        const std::vector<std::string>& record_keys) {
  auto live = live_profiles(pipeline);
  if (!live) return live.status();
  if (live->find(profile_id) == live->end()) {
    auto resolved = resolve_profile(pipeline, profile_id);
    if (!resolved) return resolved.status();
    if (*resolved) {
      return failed_precondition("profile '" + profile_id + "' was merged into '" + **resolved +
                                 "'; unmerge that profile instead");
    }
    return not_found("unknown profile '" + profile_id + "' in pipeline '" + pipeline + "'");
  }
  auto members = profile_records(pipeline, profile_id);
  if (!members) return members.status();
  std::set<std::string> in_profile;
  for (const auto& r : *members) in_profile.insert(r.key);
  std::set<std::string> split(record_keys.begin(), record_keys.end());
  if (split.empty()) return failed_precondition("name at least one record to split off (--records)");
  for (const auto& key : split) {
    if (in_profile.count(key) == 0) {
      return failed_precondition("record '" + key + "' is not in profile '" + profile_id + "'");
    }
  }
  if (split.size() == in_profile.size()) {
    return failed_precondition("the split would take every record of '" + profile_id + "'; leave at least one");
  }
  auto seq = next_seq(pipeline);
  if (!seq) return seq.status();
  const std::string new_id = format_profile_id(*seq);
  auto tx = state::sqlite::Transaction::begin(db_);
  if (!tx) return tx.status();
  const std::string now = state::sqlite::kSqlUtcNow;
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& key : split) keys.push_back(key);
  {
    auto st = db_.prepare("INSERT INTO identity_profiles (pipeline, profile_id, seq, created_at) VALUES (?1, ?2, ?3, " + now + ")");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR(st->bind_text(1, pipeline));
    CONFLUX_RETURN_IF_ERROR(st->bind_text(2, new_id));
    CONFLUX_RETURN_IF_ERROR(st->bind_int64(3, *seq));
    CONFLUX_RETURN_IF_ERROR(st->run());
  }
  int64_t unmerge_id = 0;
  {
    auto st = db_.prepare("INSERT INTO identity_unmerges (pipeline, profile_id, new_profile_id, record_keys_json, created_at) VALUES (?1, ?2, ?3, ?4, " + now + ")");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR(st->bind_text(1, pipeline));
    CONFLUX_RETURN_IF_ERROR(st->bind_text(2, profile_id));
    CONFLUX_RETURN_IF_ERROR(st->bind_text(3, new_id));
    CONFLUX_RETURN_IF_ERROR(st->bind_text(4, keys.dump()));
    CONFLUX_RETURN_IF_ERROR(st->run());
    unmerge_id = db_.last_insert_rowid();
  }
  {
    auto move = db_.prepare("UPDATE identity_records SET profile_id = ?3 WHERE pipeline = ?1 AND record_key = ?2");
    auto pin = db_.prepare("INSERT OR REPLACE INTO identity_pins (pipeline, record_key, unmerge_id, part) VALUES (?1, ?2, ?3, ?4)");
    if (!move) return move.status();
    if (!pin) return pin.status();
    for (const auto& key : in_profile) {
      const bool moved = split.count(key) != 0;
      if (moved) {
        CONFLUX_RETURN_IF_ERROR(move->bind_text(1, pipeline));
        CONFLUX_RETURN_IF_ERROR(move->bind_text(2, key));
        CONFLUX_RETURN_IF_ERROR(move->bind_text(3, new_id));
        CONFLUX_RETURN_IF_ERROR(move->run());
        move->reset();
      }
      CONFLUX_RETURN_IF_ERROR(pin->bind_text(1, pipeline));
      CONFLUX_RETURN_IF_ERROR(pin->bind_text(2, key));
      CONFLUX_RETURN_IF_ERROR(pin->bind_int64(3, unmerge_id));
      CONFLUX_RETURN_IF_ERROR(pin->bind_int64(4, moved ? 2 : 1));
      CONFLUX_RETURN_IF_ERROR(pin->run());
      pin->reset();
    }
  }
  CONFLUX_RETURN_IF_ERROR(tx->commit());
  return new_id;
}

}  // namespace conflux::identity
