// Pagination helpers: given the page just read, where is the next one? Pure functions over a URL, the response and
// its parsed body; no I/O, so each strategy is unit-tested on its own.
//
// A source keeps the URL (or the token) of the next page as its cursor, so a run resumes exactly where the last
// committed batch ended.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "conflux/common/status.hpp"
#include "conflux/http/message.hpp"

namespace conflux::http {

// Parses a response body as JSON. A body that ends early (cut JSON) or is not JSON gives kUnavailable with
// "response body is not valid JSON ...", so the caller may retry the request; never throws.
Result<nlohmann::json> parse_json_body(const Response& response);

// The value at RFC 6901 JSON pointer `pointer` ("" = the whole document), or nullptr when absent. A malformed
// pointer gives kFailedPrecondition.
Result<const nlohmann::json*> select(const nlohmann::json& document, std::string_view pointer);
// The array of records at `pointer`; an absent member is an empty page, anything but an array an error.
Result<const nlohmann::json*> select_records(const nlohmann::json& document, std::string_view pointer);

// One link of an RFC 8288 Link header: `<url>; rel="next"; title="x"`. Parameter names are lower-cased.
struct Link {
  std::string url;
  std::map<std::string, std::string> params;
};
// Every link of a Link header value (several links are separated by commas; commas inside <> or quotes are kept).
std::vector<Link> parse_link_header(std::string_view value);
// The URL of the first link whose rel (a space-separated list) contains `rel`, from all Link headers, resolved
// against `base_url`; nullopt when there is none.
std::optional<std::string> find_link(const Headers& headers, std::string_view rel, std::string_view base_url);

// The page just read, as paginators see it.
struct Page {
  std::string url;                       // the URL that produced this page
  const Response* response = nullptr;    // never null
  const nlohmann::json* body = nullptr;  // the parsed body; null when the strategy needs none
  size_t record_count = 0;               // records on this page
};

class Paginator {
 public:
  virtual ~Paginator() = default;
  // The URL of the first page, from the endpoint's URL.
  virtual std::string first(std::string_view url) const { return std::string(url); }
  // The URL of the page after `page`; nullopt when `page` was the last. An error when the page is not what the
  // strategy expects (e.g. a cursor that is not a string).
  virtual Result<std::optional<std::string>> next(const Page& page) const = 0;
};

// Cursor in the body, sent back as a query parameter (HubSpot: `paging.next.after` -> `?after=`). A missing or
// empty cursor ends the listing.
class AfterCursorPaginator final : public Paginator {
 public:
  explicit AfterCursorPaginator(std::string pointer = "/paging/next/after", std::string param = "after")
      : pointer_(std::move(pointer)), param_(std::move(param)) {}
  Result<std::optional<std::string>> next(const Page& page) const override;

 private:
  std::string pointer_;
  std::string param_;
};

// Offset and limit parameters (`?offset=200&limit=100`). Ends on a short page, or when offset reaches the total at
// `total_pointer` (if given).
class OffsetPaginator final : public Paginator {
 public:
  OffsetPaginator(size_t limit, std::string offset_param = "offset", std::string limit_param = "limit",
                  std::string total_pointer = "")
      : limit_(limit), offset_param_(std::move(offset_param)), limit_param_(std::move(limit_param)),
        total_pointer_(std::move(total_pointer)) {}
  std::string first(std::string_view url) const override;
  Result<std::optional<std::string>> next(const Page& page) const override;

 private:
  size_t limit_;
  std::string offset_param_;
  std::string limit_param_;
  std::string total_pointer_;
};

// Page numbers (amoCRM: `?page=2&limit=250`). Ends on a short or empty page, or after the page count at
// `pages_pointer` (if given).
class PageNumberPaginator final : public Paginator {
 public:
  PageNumberPaginator(size_t page_size, std::string page_param = "page", std::string size_param = "limit",
                      long first_page = 1, std::string pages_pointer = "")
      : page_size_(page_size), page_param_(std::move(page_param)), size_param_(std::move(size_param)),
        first_page_(first_page), pages_pointer_(std::move(pages_pointer)) {}
  std::string first(std::string_view url) const override;
  Result<std::optional<std::string>> next(const Page& page) const override;

 private:
  size_t page_size_;
  std::string page_param_;
  std::string size_param_;
  long first_page_;
  std::string pages_pointer_;
};

// The body names the next start offset (Bitrix24: `"next": 50` -> `?start=50`); no `next` ends the listing.
class StartNextPaginator final : public Paginator {
 public:
  explicit StartNextPaginator(std::string next_pointer = "/next", std::string start_param = "start")
      : next_pointer_(std::move(next_pointer)), start_param_(std::move(start_param)) {}
  Result<std::optional<std::string>> next(const Page& page) const override;

 private:
  std::string next_pointer_;
  std::string start_param_;
};

// An opaque page token (Google: `nextPageToken` -> `?pageToken=`). A missing or empty token ends the listing.
class PageTokenPaginator final : public Paginator {
 public:
  explicit PageTokenPaginator(std::string pointer = "/nextPageToken", std::string param = "pageToken")
      : pointer_(std::move(pointer)), param_(std::move(param)) {}
  Result<std::optional<std::string>> next(const Page& page) const override;

 private:
  std::string pointer_;
  std::string param_;
};

// RFC 8288 `Link: <...>; rel="next"` response headers. Needs no body.
class LinkHeaderPaginator final : public Paginator {
 public:
  explicit LinkHeaderPaginator(std::string rel = "next") : rel_(std::move(rel)) {}
  Result<std::optional<std::string>> next(const Page& page) const override;

 private:
  std::string rel_;
};

// The body holds the next page's URL, absolute or relative (Salesforce `nextRecordsUrl`, Meta `paging.next`,
// amoCRM `_links.next.href`). A missing, null or empty value ends the listing.
class NextUrlPaginator final : public Paginator {
 public:
  explicit NextUrlPaginator(std::string pointer = "/nextRecordsUrl") : pointer_(std::move(pointer)) {}
  Result<std::optional<std::string>> next(const Page& page) const override;

 private:
  std::string pointer_;
};

}  // namespace conflux::http
