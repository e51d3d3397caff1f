// Paginators, the Link header parser and JSON pointer selection: pure functions over canned pages.
#include "conflux/http/pagination.hpp"

#include <catch2/catch.hpp>

using conflux::http::Page;
using conflux::http::Response;
using Json = nlohmann::json;

namespace {

// The next URL a paginator gives for a page, or "" at the end; fails the test on an error.
std::string next_of(const conflux::http::Paginator& p, const std::string& url, const Json& body, size_t records,
                    const conflux::http::Headers& headers = {}) {
  Response response;
  response.status = 200;
  response.headers = headers;
  Page page{url, &response, &body, records};
  auto next = p.next(page);
  INFO(next.status().to_string());
  REQUIRE(next.is_ok());
  return next->value_or("");
}

}  // namespace

TEST_CASE("after-cursor: HubSpot's paging.next.after becomes ?after=", "[http][pagination]") {
  conflux::http::AfterCursorPaginator p;
  const std::string url = "https://api.hubapi.com/crm/v3/objects/contacts?limit=100";
  Json page1 = Json::parse(R"({"results":[{"id":"1"}],"paging":{"next":{"after":"NTI1Cg==","link":"..."}}})");
  CHECK(next_of(p, url, page1, 1) == "https://api.hubapi.com/crm/v3/objects/contacts?limit=100&after=NTI1Cg%3D%3D");
  CHECK(next_of(p, url + "&after=x", page1, 1) ==
        "https://api.hubapi.com/crm/v3/objects/contacts?limit=100&after=NTI1Cg%3D%3D");
  CHECK(next_of(p, url, Json::parse(R"({"results":[]})"), 0) == "");
  CHECK(next_of(p, url, Json::parse(R"({"results":[],"paging":{"next":{"after":""}}})"), 0) == "");
  Response r;
  Json bad = Json::parse(R"({"paging":{"next":{"after":{"x":1}}}})");
  CHECK_FALSE(p.next(Page{url, &r, &bad, 0}).is_ok());
}

TEST_CASE("offset/limit: advances by the records read, ends on a short page or at the total", "[http][pagination]") {
  conflux::http::OffsetPaginator p(100, "offset", "count", "/total_items");
  std::string first = p.first("https://x.api.mailchimp.com/3.0/lists/1/members");
  CHECK(first == "https://x.api.mailchimp.com/3.0/lists/1/members?offset=0&count=100");
  Json body = {{"total_items", 250}};
  std::string second = next_of(p, first, body, 100);
  CHECK(second == "https://x.api.mailchimp.com/3.0/lists/1/members?offset=100&count=100");
  std::string third = next_of(p, second, body, 100);
  CHECK(third == "https://x.api.mailchimp.com/3.0/lists/1/members?offset=200&count=100");
  CHECK(next_of(p, third, body, 50) == "");  // short page
  Json exact = {{"total_items", 200}};
  CHECK(next_of(p, second, exact, 100) == "");  // offset reached the total: no empty extra request
  conflux::http::OffsetPaginator no_total(10);
  CHECK(next_of(no_total, "https://a/b?offset=10&limit=10", Json::object(), 10) == "https://a/b?offset=20&limit=10");
  CHECK(next_of(no_total, "https://a/b?offset=10&limit=10", Json::object(), 0) == "");
}

TEST_CASE("page number: amoCRM's ?page=N&limit=250", "[http][pagination]") {
  conflux::http::PageNumberPaginator p(250);
  std::string first = p.first("https://sub.amocrm.ru/api/v4/contacts");
  CHECK(first == "https://sub.amocrm.ru/api/v4/contacts?page=1&limit=250");
  CHECK(next_of(p, first, Json::object(), 250) == "https://sub.amocrm.ru/api/v4/contacts?page=2&limit=250");
  CHECK(next_of(p, first, Json::object(), 249) == "");
  conflux::http::PageNumberPaginator counted(10, "page", "per_page", 1, "/total_pages");
  CHECK(next_of(counted, "https://a/calls?page=2&per_page=10", Json{{"total_pages", 3}}, 10) ==
        "https://a/calls?page=3&per_page=10");
  CHECK(next_of(counted, "https://a/calls?page=3&per_page=10", Json{{"total_pages", 3}}, 10) == "");
}

TEST_CASE("start/next: Bitrix24's next offset", "[http][pagination]") {
  conflux::http::StartNextPaginator p;
  const std::string url = "https://portal.bitrix24.ru/rest/1/secret/crm.contact.list.json";
  CHECK(next_of(p, url, Json::parse(R"({"result":[],"next":50,"total":120})"), 50) == url + "?start=50");
  CHECK(next_of(p, url + "?start=50", Json::parse(R"({"result":[],"next":100,"total":120})"), 50) ==
        url + "?start=100");
  CHECK(next_of(p, url + "?start=100", Json::parse(R"({"result":[],"total":120})"), 20) == "");
  Response r;
  Json bad = Json::parse(R"({"next":"fifty"})");
  CHECK_FALSE(p.next(Page{url, &r, &bad, 0}).is_ok());
}

TEST_CASE("page tokens: nextPageToken becomes ?pageToken=", "[http][pagination]") {
  conflux::http::PageTokenPaginator p;
  CHECK(next_of(p, "https://g.io/v1/rows?pageSize=5", Json{{"nextPageToken", "tok/1"}}, 5) ==
        "https://g.io/v1/rows?pageSize=5&pageToken=tok%2F1");
  CHECK(next_of(p, "https://g.io/v1/rows?pageToken=a", Json{{"nextPageToken", ""}}, 5) == "");
  CHECK(next_of(p, "https://g.io/v1/rows", Json::object(), 5) == "");
}

TEST_CASE("Link headers parse per RFC 8288", "[http][pagination][link]") {
  auto links = conflux::http::parse_link_header(
      R"(<https://api.x.io/items?page=2>; rel="next", <https://api.x.io/items?page=9>; rel="last"; title="a, b",)"
      R"( </items?page=1>;rel=first)");
  REQUIRE(links.size() == 3);
  CHECK(links[0].url == "https://api.x.io/items?page=2");
  CHECK(links[0].params.at("rel") == "next");
  CHECK(links[1].params.at("rel") == "last");
  CHECK(links[1].params.at("title") == "a, b");  // a comma inside quotes does not split links
  CHECK(links[2].url == "/items?page=1");
  CHECK(links[2].params.at("rel") == "first");
  CHECK(conflux::http::parse_link_header("").empty());
  CHECK(conflux::http::parse_link_header("garbage").empty());

  conflux::http::Headers headers = {{"link", R"(<https://a.io/x?page=1>; rel="prev first")"},
                                    {"Link", R"(</x?page=3>; REL="Next prefetch")"}};
  CHECK(conflux::http::find_link(headers, "next", "https://a.io/x?page=2") == "https://a.io/x?page=3");
  CHECK(conflux::http::find_link(headers, "first", "https://a.io/x") == "https://a.io/x?page=1");
  CHECK_FALSE(conflux::http::find_link(headers, "last", "https://a.io/x"));
}

TEST_CASE("Link-header paginator follows rel=next and stops without one", "[http][pagination][link]") {
  conflux::http::LinkHeaderPaginator p;
  CHECK(next_of(p, "https://a.io/v3/calls?page=1", Json(), 10, {{"Link", "</v3/calls?page=2>; rel=\"next\""}}) ==
        "https://a.io/v3/calls?page=2");
  CHECK(next_of(p, "https://a.io/v3/calls?page=2", Json(), 10, {{"Link", "</v3/calls?page=1>; rel=\"prev\""}}) == "");
}

TEST_CASE("next-URL: Salesforce nextRecordsUrl, relative to the instance", "[http][pagination]") {
  conflux::http::NextUrlPaginator p;
  const std::string url = "https://na1.salesforce.com/services/data/v58.0/query?q=SELECT+Id+FROM+Contact";
  Json more = Json::parse(R"({"done":false,"totalSize":4000,"records":[],
                               "nextRecordsUrl":"/services/data/v58.0/query/01gD0000002HU6KIAW-2000"})");
  CHECK(next_of(p, url, more, 2000) == "https://na1.salesforce.com/services/data/v58.0/query/01gD0000002HU6KIAW-2000");
  CHECK(next_of(p, url, Json::parse(R"({"done":true,"records":[]})"), 10) == "");
  conflux::http::NextUrlPaginator meta("/paging/next");
  CHECK(next_of(meta, "https://graph.facebook.com/v19.0/act_1/ads", Json::parse(R"({"paging":{"next":null}})"), 3) ==
        "");
}

TEST_CASE("JSON pointers select records; absent means empty, wrong types are errors", "[http][pagination]") {
  Json body = Json::parse(R"({"data":{"items":[{"id":1},{"id":2}],"a/b":{"~":5}},"n":null})");
  auto items = conflux::http::select_records(body, "/data/items");
  REQUIRE(items.is_ok());
  CHECK((*items)->size() == 2);
  auto escaped = conflux::http::select(body, "/data/a~1b/~0");
  REQUIRE(escaped.is_ok());
  REQUIRE(*escaped != nullptr);
  CHECK(**escaped == 5);
  auto index = conflux::http::select(body, "/data/items/1/id");
  REQUIRE(index.is_ok());
  CHECK(**index == 2);
  CHECK(*conflux::http::select(body, "/data/missing/deeper") == nullptr);
  CHECK(*conflux::http::select(body, "/data/items/7") == nullptr);
  CHECK((*conflux::http::select_records(body, "/n"))->empty());
  CHECK((*conflux::http::select_records(body, "/nothing"))->empty());
  CHECK_FALSE(conflux::http::select_records(body, "/data").is_ok());  // an object, not an array
  CHECK_FALSE(conflux::http::select(body, "no-leading-slash").is_ok());
  CHECK(*conflux::http::select(body, "") == &body);
}

TEST_CASE("a cut JSON body is a clean, retryable error", "[http][pagination]") {
  Response r;
  r.status = 200;
  r.body = R"({"results":[{"id":"1"},{"id")";
  auto parsed = conflux::http::parse_json_body(r);
  REQUIRE_FALSE(parsed.is_ok());
  CHECK(parsed.status().retryable());
  CHECK_THAT(parsed.status().message(), Catch::Contains("not valid JSON"));
}
