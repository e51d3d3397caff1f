// conflux-fake-server: serves a dialect (generic, hubspot, salesforce, amocrm, bitrix24, mailchimp or callrail)
// over a JSON data file, for shell integration tests.
//
//   conflux-fake-server --data FILE [--dialect generic|hubspot|salesforce|amocrm|bitrix24|mailchimp|callrail]
//                       [--port N] [--gzip]
//
// FILE: {"auth": {"type":"bearer","token":"..."}, "collections": {"contacts":[{"id":"1","properties":{..},
//        "updated_at":"2024-01-01T00:00:00Z"}]}, "faults": [...], "page_size": 10, "max_page_size": 100}
// hubspot: "auth" gives the one accepted bearer token (answered with HubSpot's 401 body otherwise); "hubspot" holds
// HubSpotApiOptions ({"rate_limit_requests":100,"rate_limit_window_ms":10000,"search_rate_limit_requests":5,
// "search_rate_limit_window_ms":1000,"daily_limit":0,"max_batch":100}).
// salesforce: "auth" gives the one accepted bearer token (answered with Salesforce's 401 INVALID_SESSION_ID
// otherwise); "salesforce" holds SalesforceApiOptions ({"query_batch_size":2000,"daily_limit":0,
// "custom_fields":{"Contact":["Segment__c"]}}); collections are named by object ("Contact", "Lead", "Account").
// amocrm: "auth" likewise (amoCRM's 401 problem body otherwise); "amocrm" holds AmoCrmApiOptions
// ({"rate_limit_requests":7,"rate_limit_window_ms":1000,"retry_after":"","max_batch":250,"custom_fields":{..}}).
// mailchimp: "auth" {"password": API_KEY} is the key Basic credentials must carry; collections are lists by id.
// callrail: "auth" {"key": API_KEY} is the key `Authorization: Token token="..."` must carry; collections are
// accounts by id.
// bitrix24: "bitrix24" holds Bitrix24ApiOptions ({"webhook_secret":"..","tokens":[..],"bucket_burst":50,..}); the
// collections are contact, lead and deal.
// Prints the port on the first line of stdout once it serves, then runs until SIGINT or SIGTERM. Faults can be
// added later through POST /__faults.
#include <signal.h>

#include <fstream>
#include <iostream>
#include <string>

#include "fake_server/amocrm_api.hpp"
#include "fake_server/bitrix24_api.hpp"
#include "fake_server/fake_server.hpp"
#include "fake_server/generic_api.hpp"
#include "fake_server/callrail_api.hpp"
#include "fake_server/hubspot_api.hpp"
#include "fake_server/mailchimp_api.hpp"
#include "fake_server/salesforce_api.hpp"

int main(int argc, char** argv) {
  std::string data_path;
  int port = 0;
  bool gzip = false;
  std::string dialect = "generic";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--data" && i + 1 < argc) {
      data_path = argv[++i];
    } else if (arg == "--port" && i + 1 < argc) {
      port = std::stoi(argv[++i]);
    } else if (arg == "--dialect" && i + 1 < argc) {
      dialect = argv[++i];
    } else if (arg == "--gzip") {
      gzip = true;
    } else {
      std::cerr << "usage: conflux-fake-server --data FILE [--dialect generic|hubspot|salesforce|amocrm|bitrix24|"
                   "mailchimp|callrail] "
                   "[--port N] [--gzip]\n";
      return 2;
    }
  }
  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    nlohmann::json data = nlohmann::json::object();
    if (!data_path.empty()) {
      std::ifstream in(data_path);
      if (!in) throw std::runtime_error("cannot read " + data_path);
      data = nlohmann::json::parse(in);
    }
    conflux::test::fake::ServerOptions options;
    options.gzip = gzip;
    conflux::test::fake::FakeServer server(options);
    if (dialect != "generic" && dialect != "hubspot" && dialect != "salesforce" && dialect != "amocrm" &&
        dialect != "bitrix24" && dialect != "mailchimp" && dialect != "callrail") {
      throw std::runtime_error("unknown dialect '" + dialect + "'");
    }
    // Platform dialects check credentials themselves, to answer with the platform's error body.
    if (data.contains("auth") && dialect == "generic") {
      server.set_auth(conflux::test::fake::Auth::from_json(data["auth"]));
    }
    if (data.contains("collections")) server.store().load(data["collections"]);
    for (const auto& f : data.value("faults", nlohmann::json::array())) {
      server.add_fault(conflux::test::fake::Fault::from_json(f));
    }
    const std::string token = data.contains("auth") ? data["auth"].value("token", "") : "";
    if (dialect == "hubspot") {
      conflux::test::fake::install_hubspot_api(
          server, conflux::test::fake::HubSpotApiOptions::from_json(data.value("hubspot", nlohmann::json()), token));
    } else if (dialect == "salesforce") {
      conflux::test::fake::install_salesforce_api(
          server,
          conflux::test::fake::SalesforceApiOptions::from_json(data.value("salesforce", nlohmann::json()), token));
    } else if (dialect == "amocrm") {
      conflux::test::fake::install_amocrm_api(
          server, conflux::test::fake::AmoCrmApiOptions::from_json(data.value("amocrm", nlohmann::json()), token));
    } else if (dialect == "mailchimp") {
      conflux::test::fake::MailchimpApiOptions api;
      api.api_key = data.contains("auth") ? data["auth"].value("password", "") : "";
      conflux::test::fake::install_mailchimp_api(server, api);
    } else if (dialect == "callrail") {
      conflux::test::fake::CallRailApiOptions api;
      api.api_key = data.contains("auth") ? data["auth"].value("key", "") : "";
      conflux::test::fake::install_callrail_api(server, api);
    } else if (dialect == "bitrix24") {
      conflux::test::fake::install_bitrix24_api(
          server, conflux::test::fake::Bitrix24ApiOptions::from_json(data.value("bitrix24", nlohmann::json())));
    } else {
      conflux::test::fake::GenericApiOptions api;
      api.default_page_size = data.value("page_size", api.default_page_size);
      api.max_page_size = data.value("max_page_size", api.max_page_size);
      conflux::test::fake::install_generic_api(server, api);
    }
    server.start(static_cast<uint16_t>(port));
    std::cout << server.port() << std::endl;
    int received = 0;
    sigwait(&signals, &received);
    server.stop();
  } catch (const std::exception& e) {
    std::cerr << "conflux-fake-server: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
