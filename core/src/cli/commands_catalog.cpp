// conflux plugins list|info, conflux crm list|show|count
#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "conflux/crm/local_crm.hpp"
#include "conflux/plugin_host/plugin_host.hpp"
#include "conflux/record/json.hpp"

namespace conflux::cli {
namespace {

// The local CRM database a command means: --db, else the pipeline's local_crm sink path.
std::optional<std::string> crm_path(const std::string& db, const std::string& file) {
  if (!db.empty()) return db;
  if (file.empty()) {
    std::cerr << "error: name the local CRM with --db PATH or a pipeline file whose sink is local_crm\n";
    exit_code() = kExitUsage;
    return std::nullopt;
  }
  auto config = load_pipeline_or_report(file);
  if (!config) return std::nullopt;
  if (config->sink.type != "local_crm") {
    std::cerr << "error: pipeline '" << config->name << "' does not write to the local CRM (its sink is plugin '"
              << config->sink.plugin << "')\n";
    exit_code() = kExitUsage;
    return std::nullopt;
  }
  const auto& path = config->sink.config.contains("path") ? config->sink.config["path"] : nlohmann::json();
  return path.is_string() ? path.get<std::string>()
                          : (std::filesystem::path(config->directory) / ".conflux/crm.db").string();
}

std::unique_ptr<crm::LocalCrm> open_crm(const std::string& path, crm::Entity entity) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::cerr << "error: no local CRM database at '" << path << "' (run a pipeline that writes to it first)\n";
    exit_code() = kExitFailed;
    return nullptr;
  }
  crm::LocalCrmConfig config;
  config.path = path;
  config.entity = entity;
  auto opened = crm::open_local_crm(config);
  if (!opened) {
    std::cerr << "error: " << opened.status().message() << "\n";
    exit_code() = kExitFailed;
    return nullptr;
  }
  return std::move(opened.value());
}

nlohmann::ordered_json row_json(const crm::CrmRow& row) {
  nlohmann::ordered_json out;
  out["id"] = row.id;
  out["key"] = row.profile_key;
  out["version"] = row.version;
  out["created_at"] = row.created_at;
  out["updated_at"] = row.updated_at;
  out["data"] = nlohmann::ordered_json::parse(row.data_json, nullptr, false);
  return out;
}

}  // namespace

void add_catalog_commands(CLI::App& app) {
  auto* plugins = app.add_subcommand("plugins", "List and describe plugins");
  plugins->require_subcommand(1);
  auto dirs = std::make_shared<std::vector<std::string>>();
  {
    auto* cmd = plugins->add_subcommand("list", "Every plugin found, with its version, kinds and ABI; broken ones say why");
    cmd->add_option("--plugin-dir", *dirs, "Extra directory to search first");
    cmd->callback([=] {
      plugin_host::PluginHost host(*dirs);
      auto names = host.available();
      if (names.empty()) std::cout << "no plugins found\n";
      for (const auto& name : names) {
        auto loaded = host.load(name);
        if (!loaded) {
          std::cout << name << "\tERROR\t" << loaded.status().message() << "\n";
          continue;
        }
        const auto& m = (*loaded)->manifest();
        std::cout << m.name << "\t" << m.version << "\t" << m.kinds_text() << "\tABI " << (m.abi_version >> 16) << "."
                  << (m.abi_version & 0xffff) << "\t" << m.description << "\n";
      }
      std::cout << "searched: ";
      for (size_t i = 0; i < host.search_dirs().size(); ++i) std::cout << (i ? ":" : "") << host.search_dirs()[i];
      std::cout << "\n";
    });
  }
  {
    auto* cmd = plugins->add_subcommand("info", "A plugin's manifest and config schema");
    auto name = std::make_shared<std::string>();
    cmd->add_option("name", *name, "Plugin name")->required();
    cmd->add_option("--plugin-dir", *dirs, "Extra directory to search first");
    cmd->callback([=] {
      plugin_host::PluginHost host(*dirs);
      auto loaded = host.load(*name);
      if (!loaded) {
        std::cerr << "error: " << loaded.status().message() << "\n";
        exit_code() = kExitFailed;
        return;
      }
      const auto& m = (*loaded)->manifest();
      nlohmann::ordered_json out;
      out["name"] = m.name;
      out["version"] = m.version;
      out["kinds"] = m.kinds_text();
      out["abi"] = std::to_string(m.abi_version >> 16) + "." + std::to_string(m.abi_version & 0xffff);
      out["path"] = m.path;
      out["description"] = m.description;
      out["streams"] = m.streams;
      out["config_schema"] = m.config_schema;
      std::cout << out.dump(2) << "\n";
    });
  }

  auto* crm_cmd = app.add_subcommand("crm", "Query the built-in local CRM store");
  crm_cmd->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto db = std::make_shared<std::string>();
  auto entity_name = std::make_shared<std::string>("contact");
  auto add_common = [=](CLI::App* cmd) {
    cmd->add_option("file", *file, "Pipeline YAML file whose sink is local_crm");
    cmd->add_option("--db", *db, "Local CRM database file (instead of a pipeline file)");
    cmd->add_option("--entity", *entity_name, "contact, company or deal")
        ->check(CLI::IsMember({"contact", "contacts", "company", "companies", "deal", "deals"}));
  };
  {
    auto* cmd = crm_cmd->add_subcommand("list", "List stored records as JSON lines");
    add_common(cmd);
    auto limit = std::make_shared<size_t>(20);
    auto where = std::make_shared<std::string>();
    cmd->add_option("--limit", *limit, "At most this many (0: all)");
    cmd->add_option("--where", *where, "field=value filter");
    cmd->callback([=] {
      auto path = crm_path(*db, *file);
      if (!path) return;
      auto entity = *crm::parse_entity(*entity_name);
      auto crm = open_crm(*path, entity);
      if (!crm) return;
      crm::CrmListOptions options;
      options.limit = *limit;
      if (!where->empty()) {
        auto eq = where->find('=');
        if (eq == std::string::npos) {
          std::cerr << "error: --where takes field=value\n";
          exit_code() = kExitUsage;
          return;
        }
        options.filter = crm::CrmFilter{where->substr(0, eq), where->substr(eq + 1)};
      }
      auto rows = crm->list(entity, options);
      if (!rows) {
        std::cerr << "error: " << rows.status().message() << "\n";
        exit_code() = kExitFailed;
        return;
      }
      for (const auto& row : *rows) std::cout << row_json(row).dump() << "\n";
    });
  }
  {
    auto* cmd = crm_cmd->add_subcommand("show", "One stored record by id or match key");
    add_common(cmd);
    auto key = std::make_shared<std::string>();
    cmd->add_option("--key,--id", *key, "Id or match key (e.g. an email)")->required();
    cmd->callback([=] {
      auto path = crm_path(*db, *file);
      if (!path) return;
      auto entity = *crm::parse_entity(*entity_name);
      auto crm = open_crm(*path, entity);
      if (!crm) return;
      auto row = crm->lookup(entity, *key);
      if (!row || !row->has_value()) {
        std::cerr << "error: " << (row ? "no " + *entity_name + " with id or key '" + *key + "'" : row.status().message()) << "\n";
        exit_code() = kExitFailed;
        return;
      }
      std::cout << row_json(**row).dump(2) << "\n";
    });
  }
  {
    auto* cmd = crm_cmd->add_subcommand("count", "How many records are stored");
    add_common(cmd);
    cmd->callback([=] {
      auto path = crm_path(*db, *file);
      if (!path) return;
      auto entity = *crm::parse_entity(*entity_name);
      auto crm = open_crm(*path, entity);
      if (!crm) return;
      auto n = crm->count(entity);
      if (!n) {
        std::cerr << "error: " << n.status().message() << "\n";
        exit_code() = kExitFailed;
        return;
      }
      std::cout << *n << "\n";
    });
  }
}

}  // namespace conflux::cli
