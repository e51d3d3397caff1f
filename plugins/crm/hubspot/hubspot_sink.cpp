#include "hubspot_sink.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace conflux::plugins::hubspot {
namespace {

// Fields of a record that are never sent as properties: our own metadata and HubSpot's read-only ones.
bool is_read_only(std::string_view name) {
  for (const char* n : {"id", "createdAt", "updatedAt", "archived", "hs_object_id", "createdate",
                        "lastmodifieddate", "hs_lastmodifieddate"}) {
    if (name == n) return true;
  }
  return false;
}

bool written(conflux_write_outcome outcome) {
  return outcome == CONFLUX_WRITE_CREATED || outcome == CONFLUX_WRITE_UPDATED;
}

// "refused (VALIDATION_ERROR)" from one entry of a batch response's errors.
std::string error_text(const Json& error) {
  std::string message = error.is_object() ? error.value("message", "refused") : "refused";
  if (error.is_object() && error.contains("category") && error["category"].is_string()) {
    message += " (" + error["category"].get<std::string>() + ")";
  }
  return message;
}

// True when the error's context (name -> list of ids) names `id`.
bool error_names(const Json& error, const std::string& id) {
  if (!error.is_object() || !error.contains("context") || !error["context"].is_object()) return false;
  for (const auto& [name, values] : error["context"].items()) {
    if (!values.is_array()) continue;
    for (const Json& v : values) {
      if (v.is_string() && v.get<std::string>() == id) return true;
    }
  }
  return false;
}

}  // namespace

// One record on its way: what is sent, and its outcome once known.
struct Sink::Input {
  size_t index = 0;        // in the batch
  std::string id;          // the id-property value as the record gives it
  std::string key;         // the same, normalised as HubSpot compares it
  Properties properties;   // what is sent
  std::map<size_t, std::string> partners;  // associations[i] -> the record's value of its field (not blank)
  bool decided = false;
  conflux_write_outcome outcome = CONFLUX_WRITE_REJECTED;
  std::string message;
  std::string object_id;  // HubSpot's id, once written

  void decide(conflux_write_outcome o, std::string m = {}) {
    decided = true;
    outcome = o;
    message = std::move(m);
  }
};

void Sink::write(const sdk::BatchView& batch, sdk::Results& results) const {
  std::vector<Input> inputs;
  inputs.reserve(batch.size());
  std::set<std::string> association_fields;
  for (const auto& spec : config_.associations) association_fields.insert(spec.field);
  for (size_t i = 0; i < batch.size(); ++i) {
    sdk::RecordView record = batch[i];
    auto key = record.find(config_.id_property);
    std::string value = key && !key->is_null() ? key->to_string() : std::string();
    if (is_blank(value)) {
      results.rejected(i, "hubspot: the record has no '" + config_.id_property +
                              "' (id_property), which HubSpot upserts by");
      continue;
    }
    Input in;
    in.index = i;
    in.id = value;
    in.key = normalise_key(config_.id_property, value);
    for (size_t f = 0; f < record.field_count(); ++f) {
      sdk::FieldView field = record.field_at(f);
      std::string name(field.name());
      if (field.is_null() || is_read_only(name) || association_fields.count(name)) continue;
      if (!config_.properties.empty() &&
          std::find(config_.properties.begin(), config_.properties.end(), name) == config_.properties.end()) {
        continue;
      }
      in.properties[name] = field.to_string();  // HubSpot property values are strings
    }
    for (size_t a = 0; a < config_.associations.size(); ++a) {
      auto partner = record.find(config_.associations[a].field);
      std::string text = partner && !partner->is_null() ? partner->to_string() : std::string();
      if (!is_blank(text)) in.partners[a] = text;
    }
    inputs.push_back(std::move(in));
  }
  std::vector<std::string> keys;
  for (const auto& in : inputs) keys.push_back(in.key);
  for (const auto& indexes : chunk_inputs(keys, config_.batch_size)) {
    std::vector<Input*> chunk;
    for (size_t k : indexes) chunk.push_back(&inputs[k]);
    if (config_.needs_lookup()) plan(chunk);
    std::vector<Input*> send;
    for (Input* in : chunk) {
      if (!in->decided) send.push_back(in);
    }
    if (!send.empty()) upsert(send);
    if (!config_.associations.empty()) associate(chunk);
  }
  for (const auto& in : inputs) {
    if (!in.decided) {
      results.rejected(in.index, "hubspot: HubSpot returned neither a result nor an error for this record");
    } else {
      results.set(in.index, in.outcome, in.message);
    }
  }
}

// One lookup per chunk of what HubSpot holds under the chunk's keys (with the properties that have rules), then the
// sync mode and field rules decide each record: rejected, unchanged, or sent with the properties left.
void Sink::plan(std::vector<Input*>& chunk) const {
  std::vector<std::string> keys;
  for (const Input* in : chunk) keys.push_back(in->key);
  std::vector<std::string> ruled;
  for (const auto& [name, rule] : config_.field_rules) ruled.push_back(name);
  const auto held = api_.read_by_key(config_.object, config_.id_property, keys, ruled);
  for (Input* in : chunk) {
    auto found = held.find(in->key);
    Held target = found == held.end() ? Held{} : Held{found->second.properties};
    WritePlan plan = plan_write(config_.mode, config_.field_rules, std::move(in->properties), target, config_.object,
                                config_.id_property);
    if (plan.action == WritePlan::Action::kReject) {
      in->decide(CONFLUX_WRITE_REJECTED, plan.reason);
    } else if (plan.action == WritePlan::Action::kUnchanged) {
      in->decide(CONFLUX_WRITE_UNCHANGED);
      in->object_id = found->second.id;
    } else {
      in->properties = std::move(plan.properties);
    }
  }
}

// One batch upsert. 200/207: per-input outcomes, matched by the id-property value HubSpot echoes (not by
// position). A 400 refusing the whole request (HubSpot does that for some invalid values) is split in halves until
// the offending record stands alone and is rejected by itself.
void Sink::upsert(const std::vector<Input*>& part) const {
  Json inputs = Json::array();
  for (const Input* in : part) {
    inputs.push_back({{"id", in->id}, {"idProperty", config_.id_property}, {"properties", in->properties}});
  }
  const std::string what = "batch upsert of " + std::to_string(part.size()) + " " + config_.object;
  sdk::HttpResult r = api_.post("/crm/v3/objects/" + config_.object + "/batch/upsert", Json{{"inputs", inputs}});
  if (!r.ok() && r.code == CONFLUX_ERR_FATAL && r.status == 400) {
    if (part.size() == 1) {
      std::string says = hubspot_says(r.body);
      part[0]->decide(CONFLUX_WRITE_REJECTED, "hubspot: HubSpot refused the record: " + (says.empty() ? r.error : says));
      return;
    }
    const auto middle = part.begin() + static_cast<std::ptrdiff_t>(part.size() / 2);
    upsert(std::vector<Input*>(part.begin(), middle));
    upsert(std::vector<Input*>(middle, part.end()));
    return;
  }
  if (!r.ok()) fail(r, what);
  Json body = parse_body(r, what);
  std::map<std::string, Input*> by_key;
  for (Input* in : part) by_key[in->key] = in;
  for (const Json& item : body.value("results", Json::array())) {
    const Json props = item.value("properties", Json::object());
    if (!props.is_object() || !props.contains(config_.id_property) || !props[config_.id_property].is_string()) continue;
    auto it = by_key.find(normalise_key(config_.id_property, props[config_.id_property].get<std::string>()));
    if (it == by_key.end()) continue;
    it->second->decide(item.value("new", false) ? CONFLUX_WRITE_CREATED : CONFLUX_WRITE_UPDATED);
    if (item.contains("id") && item["id"].is_string()) it->second->object_id = item["id"].get<std::string>();
  }
  for (const Json& error : body.value("errors", Json::array())) {
    const Json ids = error.contains("context") && error["context"].is_object()
                         ? error["context"].value("ids", Json::array()) : Json::array();
    for (const Json& id : ids) {
      auto it = id.is_string() ? by_key.find(normalise_key(config_.id_property, id.get<std::string>())) : by_key.end();
      if (it != by_key.end()) it->second->decide(CONFLUX_WRITE_REJECTED, "hubspot: " + error_text(error));
    }
  }
}

// For each association of the config: the chunk's written records that name a partner; one lookup of the partners
// by their id property; then the default association from each record to its partner. A record whose partner
// HubSpot does not hold, or whose association HubSpot refuses, is rejected with the reason: it is in HubSpot, but
// its association is not, so it is dead-lettered and a replay (after the partner is written) completes it.
void Sink::associate(const std::vector<Input*>& chunk) const {
  for (size_t a = 0; a < config_.associations.size(); ++a) {
    const AssociationSpec& spec = config_.associations[a];
    std::vector<std::pair<Input*, std::string>> named;  // record -> partner key
    std::vector<std::string> keys;
    for (Input* in : chunk) {
      auto partner = in->partners.find(a);
      if (!written(in->outcome) || partner == in->partners.end() || in->object_id.empty()) continue;
      std::string key = normalise_key(spec.id_property, partner->second);
      named.emplace_back(in, key);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
    if (named.empty()) continue;
    const auto partners = api_.read_by_key(spec.to, spec.id_property, keys, {});
    std::vector<std::pair<Input*, std::string>> links;  // record -> partner's object id
    for (auto& [in, key] : named) {
      auto found = partners.find(key);
      if (found == partners.end()) {
        in->decide(CONFLUX_WRITE_REJECTED,
                   "hubspot: the " + singular(config_.object) + " was written (HubSpot id " + in->object_id +
                       ") but not associated: HubSpot holds no " + singular(spec.to) + " with " + spec.id_property +
                       " '" + in->partners[a] + "' (field " + spec.field + "); write the " + spec.to +
                       " first, then replay this record");
      } else {
        links.emplace_back(in, found->second.id);
      }
    }
    for (size_t start = 0; start < links.size(); start += kMaxBatch) {
      const size_t end = std::min(links.size(), start + kMaxBatch);
      associate_links(spec, {links.begin() + static_cast<std::ptrdiff_t>(start),
                             links.begin() + static_cast<std::ptrdiff_t>(end)});
    }
  }
}

// POST /crm/v4/associations/{object}/{to}/batch/associate/default. An input without a result is rejected with the
// error that names its ids (or the first error); a 400 for the whole request is split like an upsert.
void Sink::associate_links(const AssociationSpec& spec, const std::vector<std::pair<Input*, std::string>>& links) const {
  auto refuse = [&](Input* in, const std::string& to_id, const std::string& why) {
    in->decide(CONFLUX_WRITE_REJECTED, "hubspot: the " + singular(config_.object) + " was written (HubSpot id " +
                                           in->object_id + ") but its association with " + singular(spec.to) + " " +
                                           to_id + " failed: " + why);
  };
  Json inputs = Json::array();
  for (const auto& [in, to_id] : links) inputs.push_back({{"from", {{"id", in->object_id}}}, {"to", {{"id", to_id}}}});
  const std::string what = "associating " + std::to_string(links.size()) + " " + config_.object + " with " + spec.to;
  sdk::HttpResult r = api_.post("/crm/v4/associations/" + config_.object + "/" + spec.to + "/batch/associate/default",
                                Json{{"inputs", inputs}});
  if (!r.ok() && r.code == CONFLUX_ERR_FATAL && r.status == 400) {
    if (links.size() == 1) {
      std::string says = hubspot_says(r.body);
      refuse(links[0].first, links[0].second, says.empty() ? r.error : says);
      return;
    }
    const auto middle = links.begin() + static_cast<std::ptrdiff_t>(links.size() / 2);
    associate_links(spec, {links.begin(), middle});
    associate_links(spec, {middle, links.end()});
    return;
  }
  if (!r.ok()) fail(r, what);
  Json body = parse_body(r, what);
  std::set<std::pair<std::string, std::string>> made;  // (from, to), either direction
  for (const Json& item : body.value("results", Json::array())) {
    if (!item.is_object()) continue;
    const Json from = item.value("from", Json::object()).value("id", Json());
    const Json to = item.value("to", Json::object()).value("id", Json());
    if (from.is_string() && to.is_string()) {
      made.emplace(from.get<std::string>(), to.get<std::string>());
      made.emplace(to.get<std::string>(), from.get<std::string>());
    }
  }
  const Json errors = body.value("errors", Json::array());
  for (const auto& [in, to_id] : links) {
    if (made.count({in->object_id, to_id})) continue;
    const Json* cause = errors.empty() ? nullptr : &errors[0];
    for (const Json& error : errors) {
      if (error_names(error, in->object_id) || error_names(error, to_id)) {
        cause = &error;
        break;
      }
    }
    refuse(in, to_id, cause ? error_text(*cause) : "HubSpot returned neither a result nor an error for it");
  }
}

void Sink::remove(const sdk::BatchView& batch, sdk::Results& results) const {
  std::vector<std::pair<size_t, std::string>> named;  // record -> key
  std::vector<std::string> keys;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto field = batch[i].find(config_.id_property);
    std::string value = field && !field->is_null() ? field->to_string() : std::string();
    if (is_blank(value)) {
      results.rejected(i, "hubspot: a mirror delete needs the record's '" + config_.id_property +
                              "' (id_property), which HubSpot finds the " + singular(config_.object) +
                              " by; include it in sink.sync.key");
      continue;
    }
    std::string key = normalise_key(config_.id_property, value);
    named.emplace_back(i, key);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  const auto held = api_.read_by_key(config_.object, config_.id_property, keys, {});
  std::vector<std::string> ids;
  for (const auto& [key, object] : held) ids.push_back(object.id);
  for (size_t start = 0; start < ids.size(); start += kMaxBatch) {
    Json inputs = Json::array();
    for (size_t i = start; i < ids.size() && i < start + kMaxBatch; ++i) inputs.push_back({{"id", ids[i]}});
    const std::string what = "batch archive of " + std::to_string(inputs.size()) + " " + config_.object;
    sdk::HttpResult r = api_.post("/crm/v3/objects/" + config_.object + "/batch/archive", Json{{"inputs", inputs}});
    if (!r.ok()) fail(r, what);
  }
  for (const auto& [index, key] : named) {
    if (held.count(key)) {
      results.deleted(index);
    } else {
      results.unchanged(index);
    }
  }
}

}  // namespace conflux::plugins::hubspot
