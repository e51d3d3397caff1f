#include "fake_server/mailchimp_api.hpp"

#include <Poco/DateTimeFormatter.h>
#include <Poco/MD5Engine.h>
#include <Poco/Timestamp.h>

#include <algorithm>
#include <cctype>
#include <limits>

namespace conflux::test::fake {
namespace {

using Json = nlohmann::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Mailchimp writes times to the second with an explicit offset: 2015-10-21T15:41:36+00:00.
std::string mailchimp_time(int64_t ms) {
  Poco::Timestamp ts(static_cast<Poco::Timestamp::TimeVal>(ms) * 1000);
  return Poco::DateTimeFormatter::format(ts, "%Y-%m-%dT%H:%M:%S+00:00");
}

int64_t floor_seconds(int64_t ms) { return ms >= 0 ? ms / 1000 : (ms - 999) / 1000; }

// Mailchimp's error body (application/problem+json).
Response problem(int status, const std::string& title, const std::string& detail) {
  Json body = {{"type", "https://mailchimp.com/developer/marketing/docs/errors/"},
               {"title", title},
               {"status", status},
               {"detail", detail},
               {"instance", "00000000-0000-4000-8000-" + std::to_string(100000000000 + status)}};
  return Response{status, {{"Content-Type", "application/problem+json"}}, body.dump()};
}

// Base64 decoding of the Basic credentials, enough for ASCII user:password pairs.
std::string decode_base64(const std::string& in) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int value = 0, bits = -8;
  for (char c : in) {
    size_t d = kAlphabet.find(c);
    if (d == std::string::npos) break;
    value = (value << 6) + static_cast<int>(d);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((value >> bits) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

bool authorised(const Request& request, const MailchimpApiOptions& options) {
  if (options.api_key.empty()) return true;
  auto header = request.header("Authorization");
  if (!header || header->rfind("Basic ", 0) != 0) return false;
  std::string pair = decode_base64(header->substr(6));
  size_t colon = pair.find(':');
  return colon != std::string::npos && pair.substr(colon + 1) == options.api_key;
}

Json member_json(const std::string& list_id, const StoredRecord& r) {
  const Json& p = r.properties;
  const std::string email = p.value("email_address", "");
  const std::string hash = mailchimp_subscriber_hash(email);
  return {{"id", hash},
          {"email_address", email},
          {"unique_email_id", hash.substr(0, 10)},
          {"status", p.value("status", "subscribed")},
          {"merge_fields", p.value("merge_fields", Json::object())},
          {"list_id", list_id},
          {"timestamp_opt", p.value("timestamp_opt", mailchimp_time(r.created_ms))},
          {"last_changed", mailchimp_time(r.updated_ms)}};
}

std::optional<size_t> count_param(const Request& request, const std::string& name, size_t fallback) {
  auto text = request.param(name);
  if (!text) return fallback;
  if (text->empty() || !std::all_of(text->begin(), text->end(), [](unsigned char c) { return std::isdigit(c); })) {
    return std::nullopt;
  }
  return static_cast<size_t>(std::stoull(*text));
}

}  // namespace

std::string mailchimp_subscriber_hash(const std::string& email) {
  Poco::MD5Engine md5;
  md5.update(lower(email));
  return Poco::DigestEngine::digestToHex(md5.digest());
}

void install_mailchimp_api(FakeServer& server, MailchimpApiOptions options) {
  RecordStore& store = server.store();

  server.route("GET", "/3.0/lists/{list_id}/members", [&store, options](const Request& request) {
    if (!authorised(request, options)) {
      return problem(401, "API Key Invalid", "Your API key may be invalid, or you've attempted to access the wrong datacenter.");
    }
    const std::string& list_id = request.path_params.at("list_id");
    if (!store.has_collection(list_id)) {
      return problem(404, "Resource Not Found", "The requested resource could not be found.");
    }
    auto count = count_param(request, "count", 10);
    auto offset = count_param(request, "offset", 0);
    if (!count || !offset || *count > options.max_count) {
      return problem(400, "Invalid Resource",
                     "count must be a whole number up to " + std::to_string(options.max_count) +
                         " and offset a whole number");
    }
    std::optional<int64_t> since_seconds;
    if (auto since = request.param("since_last_changed")) {
      auto ms = parse_time(*since);
      if (!ms) return problem(400, "Invalid Resource", "since_last_changed is not an ISO 8601 time: " + *since);
      since_seconds = floor_seconds(*ms);
    }
    RecordStore::Query query;
    query.limit = std::numeric_limits<size_t>::max();
    auto all = store.list(list_id, query);
    std::vector<StoredRecord> members;
    for (auto& r : all->records) {
      if (!since_seconds || floor_seconds(r.updated_ms) > *since_seconds) members.push_back(std::move(r));
    }
    const std::string sort_field = request.param("sort_field").value_or("");
    if (sort_field == "last_changed") {
      const bool descending = request.param("sort_dir").value_or("ASC") == "DESC";
      std::stable_sort(members.begin(), members.end(), [&](const StoredRecord& a, const StoredRecord& b) {
        return descending ? floor_seconds(a.updated_ms) > floor_seconds(b.updated_ms)
                          : floor_seconds(a.updated_ms) < floor_seconds(b.updated_ms);
      });
    } else if (!sort_field.empty() && sort_field != "timestamp_opt" && sort_field != "timestamp_signup") {
      return problem(400, "Invalid Resource", "sort_field must be timestamp_opt, timestamp_signup or last_changed");
    }
    Json body = {{"members", Json::array()}, {"list_id", list_id}, {"total_items", members.size()}, {"_links", Json::array()}};
    for (size_t i = *offset; i < members.size() && i < *offset + *count; ++i) {
      body["members"].push_back(member_json(list_id, members[i]));
    }
    return Response::json(200, body);
  });

  server.route("PUT", "/3.0/lists/{list_id}/members/{subscriber_hash}", [&store, options](const Request& request) {
    if (!authorised(request, options)) {
      return problem(401, "API Key Invalid", "Your API key may be invalid, or you've attempted to access the wrong datacenter.");
    }
    const std::string& list_id = request.path_params.at("list_id");
    const std::string& hash = request.path_params.at("subscriber_hash");
    if (!store.has_collection(list_id)) {
      return problem(404, "Resource Not Found", "The requested resource could not be found.");
    }
    auto body = request.json();
    if (!body || !body->is_object() || !(*body)["email_address"].is_string()) {
      return problem(400, "Invalid Resource", "The resource submitted could not be validated: email_address is required.");
    }
    const std::string email = (*body)["email_address"].get<std::string>();
    if (mailchimp_subscriber_hash(email) != lower(hash)) {
      return problem(400, "Invalid Resource", "The subscriber hash does not match the email address.");
    }
    // Find the stored member by its hash: the store's own ids are whatever the data file gave.
    RecordStore::Query query;
    query.limit = std::numeric_limits<size_t>::max();
    std::string stored_id = lower(hash);
    std::optional<StoredRecord> existing;
    const auto members = store.list(list_id, query);
    for (const auto& r : members->records) {
      if (mailchimp_subscriber_hash(r.properties.value("email_address", "")) == lower(hash)) {
        stored_id = r.id;
        existing = r;
      }
    }
    Json properties = {{"email_address", email}};
    if (body->contains("merge_fields") && (*body)["merge_fields"].is_object()) {
      Json merged = existing ? existing->properties.value("merge_fields", Json::object()) : Json::object();
      for (const auto& [k, v] : (*body)["merge_fields"].items()) merged[k] = v;
      properties["merge_fields"] = merged;
    }
    if (body->contains("status") && (*body)["status"].is_string()) {
      properties["status"] = (*body)["status"];
    } else if (!existing) {
      properties["status"] = body->value("status_if_new", "subscribed");
    }
    auto upserted = store.upsert(list_id, "", stored_id, properties);
    return Response::json(200, member_json(list_id, upserted.record));
  });
}

}  // namespace conflux::test::fake
