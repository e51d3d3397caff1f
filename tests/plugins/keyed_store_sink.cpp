// A sink plugin for tests of mirror sync through the ABI (1.2 delete_batch): keeps records in a JSON file, one object
// per value of the config's "key" field. Upserts on write; deletes on delete_batch, except the key value named by
// "refuse_delete", which it rejects the way a target that locks a record would.
#include <conflux/sdk/plugin.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

namespace keyed_store {

using Json = nlohmann::json;
namespace sdk = conflux::sdk;

class KeyedStore : public sdk::Plugin {
 public:
  explicit KeyedStore(const sdk::Context& context) : Plugin(context) {
    const Json config = Json::parse(context.config_json());
    path_ = config.at("path").get<std::string>();
    key_ = config.value("key", "email");
    refuse_delete_ = config.value("refuse_delete", "");
    std::ifstream in(path_);
    if (in) store_ = Json::parse(in);
    if (!store_.is_object()) store_ = Json::object();
  }

  void write_batch(const sdk::BatchView& batch, sdk::Results& results) override {
    for (size_t i = 0; i < batch.size(); ++i) {
      auto record = batch[i];
      auto key = record.find(key_);
      if (!key || key->to_string().empty()) {
        results.rejected(i, "keyed_store: missing key field '" + key_ + "'");
        continue;
      }
      Json fields = Json::object();
      for (size_t f = 0; f < record.field_count(); ++f) {
        auto field = record.field_at(f);
        fields[std::string(field.name())] = field.to_string();
      }
      const std::string id = key->to_string();
      const bool existed = store_.contains(id);
      store_[id] = std::move(fields);
      existed ? results.updated(i) : results.created(i);
    }
  }

  void delete_batch(const sdk::BatchView& batch, sdk::Results& results) override {
    for (size_t i = 0; i < batch.size(); ++i) {
      auto key = batch[i].find(key_);
      const std::string id = key ? key->to_string() : std::string();
      if (!refuse_delete_.empty() && id == refuse_delete_) {
        results.rejected(i, "keyed_store: '" + id + "' is locked");
      } else if (store_.erase(id) > 0) {
        results.deleted(i);
      } else {
        results.unchanged(i);
      }
    }
  }

  void flush() override {
    std::ofstream out(path_, std::ios::trunc);
    out << store_.dump(1) << "\n";
    if (!out) throw sdk::Error(CONFLUX_ERR_FATAL, "keyed_store: cannot write " + path_);
  }

 private:
  std::string path_, key_, refuse_delete_;
  Json store_;
};

}  // namespace keyed_store

CONFLUX_PLUGIN(keyed_store::KeyedStore,
               {"keyed_store_sink", "1.0.0", CONFLUX_KIND_SINK, "test: a JSON file keyed by one field; can delete",
                R"({"type":"object","additionalProperties":false,"required":["path"],"properties":{)"
                R"("path":{"type":"string"},"key":{"type":"string"},"refuse_delete":{"type":"string"}}})",
                nullptr, true})
