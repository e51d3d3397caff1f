#include "conflux/engine/stage.hpp"

namespace conflux::engine {

Status RecordTransform::apply(std::vector<Record>& records, std::vector<Rejected>& rejected) {
  size_t kept = 0;
  std::string reason;
  for (size_t i = 0; i < records.size(); ++i) {
    reason.clear();
    Verdict verdict = process(records[i], reason);
    if (verdict == Verdict::kKeep) {
      if (kept != i) records[kept] = std::move(records[i]);
      ++kept;
    } else {
      rejected.push_back({std::move(records[i]), reason, verdict == Verdict::kInvalid});
    }
  }
  records.resize(kept);
  return Status::ok();
}

}  // namespace conflux::engine
