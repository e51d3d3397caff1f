// One SDK source plugin with selectable faults, for the bad-plugin suite. Config:
//   {"fault": "none" | "throw" | "throw_unknown" | "error_config" | "error_retry" | "hang" | "spaced_json" |
//    "bad_json", "count": N}
// spaced_json emits a JSON value with whitespace (valid: the host keeps it compact); bad_json one whose text is not
// a JSON array or object (a misuse of the ABI the host reports).
// Its schema requires "fault" to be one of those, so a wrong value exercises config-schema validation too.
#include <conflux/sdk/plugin.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace faulty {

class Reader : public conflux::sdk::StreamReader {
 public:
  Reader(std::string fault, int count) : fault_(std::move(fault)), count_(count) {}
  bool read_batch(size_t max, conflux::sdk::Emitter& out) override {
    if (fault_ == "throw") throw std::runtime_error("boom: the connector hit a bug");
    if (fault_ == "throw_unknown") throw 42;
    if (fault_ == "error_config") throw conflux::sdk::config_error("api token rejected by the platform (HTTP 401)");
    if (fault_ == "error_retry") throw conflux::sdk::retry_error("platform answered 503");
    if (fault_ == "hang") {
      while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    for (size_t i = 0; i < max && next_ < count_; ++i, ++next_) {
      out.begin().add_int("n", next_);
      if (fault_ == "spaced_json") out.add_json("tags", "[ \"a\" ,\n  {\"b\" : 1} ]");
      if (fault_ == "bad_json") out.add_json("tags", "[\"a\", oops");
      out.end(next_ + 1);
    }
    out.cursor(std::to_string(next_));
    return next_ < count_;
  }

 private:
  std::string fault_;
  int count_;
  int next_ = 0;
};

class Faulty : public conflux::sdk::Plugin {
 public:
  explicit Faulty(const conflux::sdk::Context& context) : Plugin(context) {
    const std::string& c = context.config_json();
    for (const char* f : {"throw_unknown", "throw", "error_config", "error_retry", "hang", "spaced_json", "bad_json", "none"}) {
      if (c.find(std::string("\"") + f + "\"") != std::string::npos) {
        fault_ = f;
        break;
      }
    }
  }
  std::unique_ptr<conflux::sdk::StreamReader> open_stream(std::string_view, std::string_view) override {
    return std::make_unique<Reader>(fault_, 5);
  }

 private:
  std::string fault_ = "none";
};

}  // namespace faulty

CONFLUX_PLUGIN(faulty::Faulty, {"faulty", "1.0.0", CONFLUX_KIND_SOURCE, "test: a source with selectable faults",
                                R"({"type":"object","additionalProperties":false,"required":["fault"],
                                    "properties":{"fault":{"enum":["none","throw","throw_unknown","error_config",
                                    "error_retry","hang","spaced_json","bad_json"]}}})",
                                R"(["items"])"})
