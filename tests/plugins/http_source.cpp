// A source that reads the fake server's generic API through the host's http_request (ABI 1.1, conflux::sdk::Http):
// the ABI-level test of the HTTP toolkit. Config: {"base_url": "...", "token": "...", "page_size": N}.
// Stream "contacts": GET <base_url>/api/contacts?limit=N&after=<cursor> with a bearer token; the cursor is the
// server's paging.next.after, so a run resumes after the last committed page.
#include <conflux/sdk/plugin.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace http_source {

class Reader : public conflux::sdk::StreamReader {
 public:
  Reader(const conflux::sdk::Context& context, std::string url, std::string token, std::string cursor)
      : http_(context), url_(std::move(url)), token_(std::move(token)), cursor_(std::move(cursor)) {
    http_.rate_limit("fake", "test-account", 50, 1000);
  }

  bool read_batch(size_t max_records, conflux::sdk::Emitter& out) override {
    std::string url = url_ + "?limit=" + std::to_string(max_records) + (cursor_.empty() ? "" : "&after=" + cursor_);
    conflux::sdk::HttpResult result =
        http_.get(url, {{"Authorization", "Bearer " + token_}, {"Accept", "application/json"}});
    result.throw_if_error();  // RETRY / TIMEOUT / CONFIG / QUOTA / FATAL exactly as the host classified it
    nlohmann::json body = nlohmann::json::parse(result.body, nullptr, false);
    if (!body.is_object() || !body["results"].is_array()) {
      throw conflux::sdk::retry_error("http_source: the page is not the expected JSON (truncated?)");
    }
    for (const auto& r : body["results"]) {
      out.begin()
          .add_string("id", r.value("id", ""))
          .add_string("email", r["properties"].value("email", ""))
          .add_int("attempts", result.attempts)
          .end(0);
    }
    const nlohmann::json* next = nullptr;
    if (body.contains("paging") && body["paging"].contains("next")) next = &body["paging"]["next"]["after"];
    cursor_ = next && next->is_string() ? next->get<std::string>() : std::string();
    if (!cursor_.empty()) out.cursor(cursor_);
    return !cursor_.empty();
  }

 private:
  conflux::sdk::Http http_;
  std::string url_;
  std::string token_;
  std::string cursor_;
};

class HttpSource : public conflux::sdk::Plugin {
 public:
  explicit HttpSource(const conflux::sdk::Context& context) : Plugin(context) {
    nlohmann::json config = nlohmann::json::parse(context.config_json());
    base_url_ = config.value("base_url", "");
    token_ = config.value("token", "");
  }

  void check() override {
    conflux::sdk::Http http(context());
    http.get(base_url_ + "/api/contacts?limit=1", {{"Authorization", "Bearer " + token_}}).throw_if_error();
  }

  std::unique_ptr<conflux::sdk::StreamReader> open_stream(std::string_view stream, std::string_view cursor) override {
    if (stream != "contacts") throw conflux::sdk::config_error("http_source: no stream '" + std::string(stream) + "'");
    return std::make_unique<Reader>(context(), base_url_ + "/api/contacts", token_, std::string(cursor));
  }

 private:
  std::string base_url_;
  std::string token_;
};

}  // namespace http_source

CONFLUX_PLUGIN(http_source::HttpSource,
               {"http_source", "1.0.0", CONFLUX_KIND_SOURCE, "test: reads the fake server through http_request",
                R"({"type":"object","additionalProperties":false,"required":["base_url","token"],
                    "properties":{"base_url":{"type":"string"},"token":{"type":"string"}}})",
                R"(["contacts"])"})
