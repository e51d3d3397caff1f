// The hubspot sink: batch upsert of one object type by an id property, with the sync mode and field rules every
// CRM sink supports, associations to other objects named by record fields, and mirror deletes (batch archive).
#pragma once

#include <string>
#include <vector>

#include "hubspot_client.hpp"

namespace conflux::plugins::hubspot {

class Sink {
 public:
  // `config` must outlive the sink.
  Sink(const sdk::Context& context, const Config& config) : config_(config), api_(context, config) {}

  // Every record gets exactly one outcome: created, updated, unchanged (insert_only, or nothing left to send after
  // the field rules), or rejected with the reason (dead-lettered, replayable). A 5xx, timeout or quota after the
  // host's retries throws, and the host keeps the batch's cursor.
  void write(const sdk::BatchView& batch, sdk::Results& results) const;

  // Mirror sync (ABI 1.2 delete_batch): the batch's records hold the sink.sync.key fields, which must include the
  // id property. One lookup by id property per batch, then batch archive of the objects HubSpot holds: deleted, or
  // unchanged when HubSpot no longer holds it; a record without the id property is rejected (the run fails with the
  // reason, and the host tries its key again on the next mirror run).
  void remove(const sdk::BatchView& batch, sdk::Results& results) const;

 private:
  struct Input;
  void plan(std::vector<Input*>& chunk) const;
  void upsert(const std::vector<Input*>& part) const;
  void associate(const std::vector<Input*>& chunk) const;
  void associate_links(const AssociationSpec& spec, const std::vector<std::pair<Input*, std::string>>& links) const;

  const Config& config_;
  Api api_;
};

}  // namespace conflux::plugins::hubspot
