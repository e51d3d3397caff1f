// URL helpers: query parameters, encoding, relative resolution.
#include "conflux/http/url.hpp"

#include <catch2/catch.hpp>

using namespace conflux::http;

TEST_CASE("query parameters are read, set, replaced and removed", "[http][url]") {
  CHECK(query_param("https://x.io/a?after=abc&limit=10", "after") == "abc");
  CHECK(query_param("https://x.io/a?q=a%20b+c", "q") == "a b c");
  CHECK_FALSE(query_param("https://x.io/a?limit=10", "after"));
  CHECK(query_param("https://x.io/a?flag", "flag") == "");
  CHECK(with_query_param("https://x.io/a", "after", "x y") == "https://x.io/a?after=x%20y");
  CHECK(with_query_param("https://x.io/a?limit=5&after=1", "after", "2") == "https://x.io/a?limit=5&after=2");
  CHECK(with_query_param("https://x.io/a?after=1&after=3&b=2", "after", "9") == "https://x.io/a?after=9&b=2");
  CHECK(with_query_param("https://x.io/a?b=2#frag", "c", "3") == "https://x.io/a?b=2&c=3#frag");
  CHECK(without_query_param("https://x.io/a?a=1&b=2&a=3", "a") == "https://x.io/a?b=2");
  CHECK(without_query_param("https://x.io/a?a=1", "a") == "https://x.io/a");
}

TEST_CASE("encoding and form bodies", "[http][url]") {
  CHECK(url_encode("a b&c=d/é~") == "a%20b%26c%3Dd%2F%C3%A9~");
  CHECK(url_decode("a%20b%26c+d") == "a b&c d");
  CHECK(url_decode("a+b", false) == "a+b");
  CHECK(url_decode("100%") == "100%");
  CHECK(form_encode({{"grant_type", "refresh_token"}, {"refresh_token", "a/b+c"}}) ==
        "grant_type=refresh_token&refresh_token=a%2Fb%2Bc");
}

TEST_CASE("references resolve against a base URL as RFC 3986 says", "[http][url]") {
  const std::string base = "https://na1.salesforce.com/services/data/v58.0/query?q=SELECT";
  CHECK(resolve_url(base, "/services/data/v58.0/query/01gD-2000") ==
        "https://na1.salesforce.com/services/data/v58.0/query/01gD-2000");
  CHECK(resolve_url(base, "https://other.io/x?y=1") == "https://other.io/x?y=1");
  CHECK(resolve_url(base, "next?page=2") == "https://na1.salesforce.com/services/data/v58.0/next?page=2");
  CHECK(resolve_url(base, "../v59.0/x") == "https://na1.salesforce.com/services/data/v59.0/x");
  CHECK(resolve_url(base, "?q=2") == "https://na1.salesforce.com/services/data/v58.0/query?q=2");
  CHECK(resolve_url(base, "//cdn.io/a") == "https://cdn.io/a");
  CHECK(resolve_url("http://127.0.0.1:8080", "/a/b") == "http://127.0.0.1:8080/a/b");
}
