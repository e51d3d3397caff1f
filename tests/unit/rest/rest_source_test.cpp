// The rest source: config parsing and checks, paginator wiring, cursor values, and reading the fake server's
// generic dialect (paging, resuming from a committed cursor, incremental reads, bad bodies, a wrong credential).
#include <catch2/catch.hpp>

#include <fstream>

#include "conflux/http/client.hpp"
#include "conflux/http/url.hpp"
#include "conflux/rest/rest_source.hpp"
#include "fake_server/fake_server.hpp"
#include "fake_server/generic_api.hpp"
#include "../test_support.hpp"

namespace conflux::rest {
namespace {

using Json = nlohmann::json;

Json minimal_config(const std::string& base_url = "https://api.example.com/v1/") {
  return Json::parse(R"({"base_url": ")" + base_url + R"(", "streams": [{"name": "contacts", "path": "/contacts",
    "record_selector": "/results"}]})");
}

std::vector<ConfigProblem> problems_of(const Json& config, const std::string& dir = ".") {
  std::vector<ConfigProblem> problems;
  auto parsed = parse_rest_config(config, dir, problems);
  CHECK(parsed.has_value() == problems.empty());
  return problems;
}

bool has_problem(const std::vector<ConfigProblem>& problems, const std::string& pointer, const std::string& text) {
  for (const auto& p : problems) {
    if (p.pointer == pointer && p.message.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string dump(const std::vector<ConfigProblem>& problems) {
  std::string out;
  for (const auto& p : problems) out += p.pointer + ": " + p.message + "\n";
  return out;
}

}  // namespace

TEST_CASE("rest config: a complete config parses into its parts", "[rest]") {
  test::TempDir dir;
  std::ofstream(dir.file("member.json")) << R"({"type":"object","required":["email_address"]})";
  Json config = Json::parse(R"({
    "base_url": "https://us6.api.mailchimp.com/3.0/",
    "auth": {"type": "basic", "username": "any", "password": "key-us6"},
    "headers": {"Accept-Language": "en"},
    "rate_limit": {"requests": 10, "per_seconds": 1, "burst": 2, "key": "mailchimp", "account": "us6"},
    "timeout_seconds": 30,
    "streams": [{
      "name": "members", "path": "/lists/abc/members", "params": {"sort_dir": "ASC", "vip_only": false, "n": 3},
      "record_selector": "/members",
      "paginator": {"type": "offset", "page_size": 500, "size_param": "count", "total_pointer": "/total_items"},
      "incremental": {"cursor_field": "last_changed", "request_param": "since_last_changed"},
      "primary_key": "email",
      "schema": "member.json",
      "fields": {"email": "/email_address", "first_name": "/merge_fields/FNAME"},
      "max_pages": 7
    }]})");
  std::vector<ConfigProblem> problems;
  auto parsed = parse_rest_config(config, dir.path().string(), problems);
  INFO(dump(problems));
  REQUIRE(parsed);
  CHECK(parsed->base_url == "https://us6.api.mailchimp.com/3.0");
  CHECK(parsed->auth.type == AuthType::kBasic);
  CHECK(parsed->auth.password == "key-us6");
  REQUIRE(parsed->rate_limit);
  CHECK(parsed->rate_limit->requests == 10);
  CHECK(parsed->rate_limit->burst == 2);
  CHECK(parsed->timeout_seconds == 30);
  const StreamConfig& s = parsed->streams.at(0);
  CHECK(s.params.size() == 3);
  CHECK(s.paginator.type == "offset");
  CHECK(s.paginator.size_param == "count");
  CHECK(s.paginator.offset_param == "offset");
  REQUIRE(s.incremental);
  CHECK(s.incremental->cursor_field == "/last_changed");
  CHECK(s.incremental->format == CursorFormat::kRfc3339);
  CHECK(s.primary_key == std::vector<std::string>{"email"});
  CHECK(s.schema["required"][0] == "email_address");
  CHECK(s.fields.size() == 2);
  CHECK(s.max_pages == 7);
}

TEST_CASE("rest config: problems point at the key and say how to fix it", "[rest]") {
  SECTION("a rate limit needs both numbers") {
    Json c = minimal_config();
    c["rate_limit"] = {{"requests", 0}};
    auto p = problems_of(c);
    INFO(dump(p));
    CHECK(has_problem(p, "/rate_limit", "needs requests and per_seconds"));
    CHECK(has_problem(p, "/rate_limit/requests", "at least 1"));
  }
  SECTION("a key of another auth type") {
    Json c = minimal_config();
    c["auth"] = {{"type", "basic"}, {"username", "u"}, {"password", "p"}, {"token", "t"}};
    auto p = problems_of(c);
    CHECK(has_problem(p, "/auth/token", "does not apply to auth type basic (only to bearer)"));
  }
  SECTION("a paginator that needs fields it lacks") {
    Json c = minimal_config();
    c["streams"][0]["paginator"] = {{"type", "offset"}, {"cursor_param", "after"}};
    auto p = problems_of(c);
    INFO(dump(p));
    CHECK(has_problem(p, "/streams/0/paginator", "needs page_size"));
    CHECK(has_problem(p, "/streams/0/paginator/cursor_param", "does not apply to paginator type offset"));
    c["streams"][0]["paginator"] = {{"type", "cursor"}, {"cursor_pointer", "paging/next"}, {"cursor_param", "after"}};
    p = problems_of(c);
    CHECK(has_problem(p, "/streams/0/paginator/cursor_pointer", "is not a JSON pointer"));
    c["streams"][0]["paginator"] = {{"type", "cursr"}};
    p = problems_of(c);
    CHECK(has_problem(p, "/streams/0/paginator/type", "did you mean 'cursor'?"));
  }
  SECTION("parameters the source sets itself cannot be fixed ones") {
    Json c = minimal_config();
    c["streams"][0]["paginator"] = {{"type", "page"}, {"page_size", 100}, {"size_param", "per_page"}};
    c["streams"][0]["incremental"] = {{"cursor_field", "updated"}, {"request_param", "since"}};
    c["streams"][0]["params"] = {{"per_page", 5}, {"since", "2020-01-01"}};
    auto p = problems_of(c);
    CHECK(has_problem(p, "/streams/0/params/per_page", "set by the paginator or the incremental cursor"));
    CHECK(has_problem(p, "/streams/0/params/since", "set by the paginator or the incremental cursor"));
  }
  SECTION("fields, primary key, schema, names and URLs") {
    Json c = minimal_config("ftp://example.com");
    c["headers"] = {{"Authorization", "Bearer x"}};
    c["streams"][0]["fields"] = {{"email", "/email_address"}, {"bad", "email"}};
    c["streams"][0]["primary_key"] = "id";
    c["streams"][0]["schema"] = "missing.json";
    c["streams"][0]["path"] = "contacts";
    c["streams"].push_back(c["streams"][0]);
    c["streams"][0]["incremental"] = {{"cursor_field", "updated"}, {"request_param", "since"}, {"format", "unix"},
                                      {"start", "yesterday"}};
    auto p = problems_of(c);
    INFO(dump(p));
    CHECK(has_problem(p, "/base_url", "http:// or https://"));
    CHECK(has_problem(p, "/headers/Authorization", "put credentials under auth"));
    CHECK(has_problem(p, "/streams/0/fields/bad", "must be a JSON pointer"));
    CHECK(has_problem(p, "/streams/0/primary_key", "'id' is not one of the stream's fields"));
    CHECK(has_problem(p, "/streams/0/schema", "cannot read the record schema"));
    CHECK(has_problem(p, "/streams/0/path", "must start with '/'"));
    CHECK(has_problem(p, "/streams/1/name", "duplicate stream name 'contacts'"));
    CHECK(has_problem(p, "/streams/0/incremental/start", "does not read as a unix value"));
  }
}

TEST_CASE("rest cursor values compare as the format says", "[rest]") {
  auto t = [](const std::string& v) { return parse_cursor_value(v, CursorFormat::kRfc3339); };
  REQUIRE(t("2015-10-21T15:41:36+00:00"));
  CHECK(t("2015-10-21T15:41:36+00:00")->number == t("2015-10-21T17:41:36+02:00")->number);
  CHECK(t("2015-10-21T15:41:36Z")->number == t("2015-10-21 15:41:36")->number);
  CHECK(*t("2015-10-21T15:41:36.000-05:00") < *t("2015-10-21T20:41:36.5Z"));
  CHECK(*t("2015-10-21") < *t("2015-10-21T00:00:01Z"));
  CHECK(t("1970-01-01T00:00:01Z")->number == 1e6);
  CHECK_FALSE(t("21/10/2015"));
  CHECK_FALSE(t("2015-13-01T00:00:00Z"));
  CHECK_FALSE(t("2015-10-21T15:41:36+00:00 trailing"));
  CHECK(*parse_cursor_value("9", CursorFormat::kUnix) < *parse_cursor_value("10", CursorFormat::kUnix));
  CHECK(*parse_cursor_value("10", CursorFormat::kString) < *parse_cursor_value("9", CursorFormat::kString));
  CHECK_FALSE(parse_cursor_value("12a", CursorFormat::kNumber));
}

TEST_CASE("rest paginator config builds the toolkit's paginators", "[rest]") {
  http::Response response;
  Json body = Json::parse(R"({"total_items": 25, "paging": {"next": {"after": "c2"}}, "next": 40,
                              "nextPageToken": "t2", "links": {"next": "/v1/x?page=9"}})");
  auto next_of = [&](const PaginatorConfig& c, const std::string& url, size_t count) {
    auto p = make_paginator(c);
    auto next = p->next({url, &response, &body, count});
    REQUIRE(next);
    return next->value_or("(end)");
  };
  PaginatorConfig offset;
  offset.type = "offset";
  offset.page_size = 10;
  offset.size_param = "count";
  offset.total_pointer = "/total_items";
  CHECK(make_paginator(offset)->first("https://h/x") == "https://h/x?offset=0&count=10");
  CHECK(next_of(offset, "https://h/x?offset=10&count=10", 10) == "https://h/x?offset=20&count=10");
  CHECK(next_of(offset, "https://h/x?offset=20&count=10", 10) == "(end)");  // 30 >= total_items 25

  PaginatorConfig page;
  page.type = "page";
  page.page_size = 5;
  page.size_param = "per_page";
  CHECK(make_paginator(page)->first("https://h/x") == "https://h/x?page=1&per_page=5");
  CHECK(next_of(page, "https://h/x?page=1&per_page=5", 5) == "https://h/x?page=2&per_page=5");
  CHECK(next_of(page, "https://h/x?page=2&per_page=5", 4) == "(end)");

  PaginatorConfig cursor;
  cursor.type = "cursor";
  cursor.cursor_pointer = "/paging/next/after";
  cursor.cursor_param = "after";
  CHECK(next_of(cursor, "https://h/x?limit=2", 2) == "https://h/x?limit=2&after=c2");

  PaginatorConfig start;
  start.type = "start";
  start.next_pointer = "/next";
  CHECK(next_of(start, "https://h/x", 50) == "https://h/x?start=40");

  PaginatorConfig token;
  token.type = "page_token";
  token.token_pointer = "/nextPageToken";
  token.token_param = "pageToken";
  CHECK(next_of(token, "https://h/x", 1) == "https://h/x?pageToken=t2");

  PaginatorConfig next_url;
  next_url.type = "next_url";
  next_url.next_pointer = "/links/next";
  CHECK(next_of(next_url, "https://h/v1/x?page=8", 1) == "https://h/v1/x?page=9");

  PaginatorConfig link;
  link.type = "link_header";
  response.headers = {{"Link", "<https://h/x?page=3>; rel=\"next\""}};
  CHECK(next_of(link, "https://h/x?page=2", 1) == "https://h/x?page=3");

  PaginatorConfig none;
  CHECK(next_of(none, "https://h/x", 100) == "(end)");
}

namespace {

// A fake server with the generic dialect and 25 contacts updated one minute apart.
struct GenericFixture {
  test::fake::FakeServer server;
  GenericFixture() {
    Json contacts = Json::array();
    for (int i = 1; i <= 25; ++i) {
      char updated[32];
      std::snprintf(updated, sizeof updated, "2024-01-01T00:%02d:00Z", i);
      contacts.push_back({{"id", std::to_string(i)},
                          {"properties", {{"email", "p" + std::to_string(i) + "@example.com"}}},
                          {"updated_at", updated}});
    }
    server.store().load({{"contacts", contacts}});
    server.set_auth(test::fake::Auth::from_json({{"type", "bearer"}, {"token", "secret-token-1"}}));
    test::fake::install_generic_api(server);
    server.start();
  }

  RestConfig config(bool incremental = false, const std::string& token = "secret-token-1") {
    Json c = Json::parse(R"({"streams": [{"name": "contacts", "path": "/api/contacts", "record_selector": "/results",
      "paginator": {"type": "cursor", "cursor_pointer": "/paging/next/after", "cursor_param": "after",
                    "page_size": 10, "size_param": "limit"},
      "primary_key": "email",
      "fields": {"id": "/id", "email": "/properties/email", "updated": "/updatedAt"}}]})");
    c["base_url"] = server.base_url();
    c["auth"] = {{"type", "bearer"}, {"token", token}};
    if (incremental) c["streams"][0]["incremental"] = {{"cursor_field", "updatedAt"}, {"request_param", "updated_since"}};
    std::vector<ConfigProblem> problems;
    auto parsed = parse_rest_config(c, ".", problems);
    INFO(dump(problems));
    REQUIRE(parsed);
    return *parsed;
  }
};

struct ReadResult {
  std::vector<std::string> emails;
  std::vector<std::string> cursors;
  size_t invalid = 0;
  Status status;
};

// Reads `stream` in batches of `batch` until the end, or only `batches` batches when given.
ReadResult read_all(engine::Source& source, const std::string& cursor, size_t batch, size_t batches = SIZE_MAX) {
  ReadResult out;
  auto opened = source.open("contacts", cursor);
  if (!opened) {
    out.status = opened.status();
    return out;
  }
  for (size_t n = 0; n < batches; ++n) {
    engine::SourceBatch b;
    out.status = (*opened)->read(batch, b);
    if (!out.status.is_ok()) return out;
    for (const auto& r : b.records) out.emails.push_back(r.find("email")->to_text());
    out.invalid += b.invalid.size();
    out.cursors.push_back(b.cursor.value_or(""));
    if (b.end) break;
  }
  return out;
}

}  // namespace

TEST_CASE("rest source: pages through a listing in batches and ends", "[rest]") {
  GenericFixture fake;
  auto source = make_rest_source(fake.config());
  auto all = read_all(*source, "", 7);
  REQUIRE(all.status.is_ok());
  REQUIRE(all.emails.size() == 25);
  CHECK(all.emails.front() == "p1@example.com");
  CHECK(all.emails.back() == "p25@example.com");
  CHECK(all.cursors.back() == "{}");  // a full read: the next run starts again from the first page
  CHECK(fake.server.count_status(200) == 3);  // 10 + 10 + 5: one request per page, not per batch

  auto catalog = Json::parse(*source->discover());
  CHECK(catalog["streams"][0]["name"] == "contacts");
  CHECK(catalog["streams"][0]["primary_key"] == Json::array({"email"}));
  CHECK(catalog["streams"][0]["fields"].contains("updated"));
  CHECK(source->check().is_ok());
}

TEST_CASE("rest source: a committed cursor resumes mid-page without repeating or skipping", "[rest]") {
  GenericFixture fake;
  auto source = make_rest_source(fake.config());
  auto first = read_all(*source, "", 7, 2);  // 14 records: the second page's first 4
  REQUIRE(first.status.is_ok());
  REQUIRE(first.emails.size() == 14);
  auto cursor = Json::parse(first.cursors.back());
  CHECK(cursor["skip"] == 4);
  CHECK(cursor["page"].get<std::string>().rfind("/api/contacts?", 0) == 0);  // relative to base_url: no host
  auto rest = read_all(*source, first.cursors.back(), 7);
  REQUIRE(rest.status.is_ok());
  REQUIRE(rest.emails.size() == 11);
  CHECK(rest.emails.front() == "p15@example.com");
}

TEST_CASE("rest source: incremental reads ask for what changed since the newest value read", "[rest]") {
  GenericFixture fake;
  auto source = make_rest_source(fake.config(true));
  auto first = read_all(*source, "", 100);
  REQUIRE(first.status.is_ok());
  CHECK(first.emails.size() == 25);
  auto cursor = Json::parse(first.cursors.back());
  CHECK(cursor == Json{{"since", "2024-01-01T00:25:00.000Z"}});
  // Two contacts change; the generic dialect's updated_since is inclusive, so the newest one read is seen again.
  fake.server.store().upsert("contacts", "", "3", {{"email", "p3@example.com"}, {"name", "changed"}});
  fake.server.store().upsert("contacts", "", "7", {{"email", "p7@example.com"}, {"name", "changed"}});
  auto second = read_all(*source, first.cursors.back(), 100);
  REQUIRE(second.status.is_ok());
  CHECK(second.emails == std::vector<std::string>{"p3@example.com", "p7@example.com", "p25@example.com"});
  CHECK(Json::parse(second.cursors.back())["since"] != cursor["since"]);
}

TEST_CASE("rest source: a cut body is fetched again and never emitted in part", "[rest]") {
  GenericFixture fake;
  SourceOptions options;
  options.body_retries = 1;
  auto source = make_rest_source(fake.config(), options);
  test::fake::Fault cut;
  cut.kind = test::fake::Fault::Kind::kCutJson;
  cut.count = 1;
  fake.server.add_fault(cut);
  auto recovered = read_all(*source, "", 100);
  REQUIRE(recovered.status.is_ok());
  CHECK(recovered.emails.size() == 25);

  cut.count = 2;  // more than body_retries allows
  fake.server.add_fault(cut);
  auto failed = read_all(*source, "", 100);
  CHECK(failed.status.code() == StatusCode::kUnavailable);
  CHECK(failed.status.message().find("not valid JSON") != std::string::npos);
  CHECK(failed.status.message().find("the cursor stays where it was") != std::string::npos);
  CHECK(failed.emails.empty());
}

TEST_CASE("rest source: a wrong credential is one clear authentication error", "[rest]") {
  GenericFixture fake;
  auto source = make_rest_source(fake.config(false, "wrong-token"));
  auto read = read_all(*source, "", 100);
  CHECK(read.status.code() == StatusCode::kFailedPrecondition);
  CHECK(read.status.message().find("authentication failed (HTTP 401)") != std::string::npos);
  CHECK(read.status.message().find("wrong-token") == std::string::npos);
  CHECK(fake.server.count_status(401) == 1);  // not retried
  CHECK(source->check().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("rest source: a saved cursor of another shape is refused with the fix", "[rest]") {
  GenericFixture fake;
  auto source = make_rest_source(fake.config());
  auto opened = source->open("contacts", "line:42");
  REQUIRE_FALSE(opened);
  CHECK(opened.status().message().find("conflux state reset") != std::string::npos);
  CHECK_FALSE(source->open("contcts", ""));
}

}  // namespace conflux::rest
