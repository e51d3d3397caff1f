#include "conflux/transforms/timestamp.hpp"

#include <catch2/catch.hpp>

using conflux::transforms::TimestampOptions;
using conflux::transforms::TimestampParser;

namespace {

TimestampParser parser(const std::string& zone = "UTC", bool day_first = false,
                       std::vector<std::string> formats = {"auto"}) {
  TimestampOptions options;
  options.timezone = zone;
  options.day_first = day_first;
  options.formats = std::move(formats);
  auto result = TimestampParser::create(options);
  INFO(result.status().to_string());
  REQUIRE(result.is_ok());
  return std::move(result).value();
}

}  // namespace

TEST_CASE("timestamps in the usual formats become ISO-8601 UTC", "[transforms][cast][timestamp]") {
  TimestampParser moscow = parser("Europe/Moscow");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2024-03-05 14:30", "2024-03-05T11:30:00Z"},
      {"2024-03-05T14:30:00", "2024-03-05T11:30:00Z"},
      {"2024-03-05t14:30:00", "2024-03-05T11:30:00Z"},
      {"05.03.2024 14:30:00", "2024-03-05T11:30:00Z"},
      {"05.03.2024 14:30", "2024-03-05T11:30:00Z"},
      {"5.3.2024 14:30", "2024-03-05T11:30:00Z"},
      {"05.03.24 14:30", "2024-03-05T11:30:00Z"},
      {"03/05/2024 2:30 PM", "2024-03-05T11:30:00Z"},
      {"03/05/2024 2:30pm", "2024-03-05T11:30:00Z"},
      {"03/05/2024 12:15 AM", "2024-03-04T21:15:00Z"},
      {"03/05/2024 12:15 PM", "2024-03-05T09:15:00Z"},
      {"2024/03/05 14:30:00", "2024-03-05T11:30:00Z"},
      {"2024-03-05T14:30:00Z", "2024-03-05T14:30:00Z"},
      {"2024-03-05T14:30:00+03:00", "2024-03-05T11:30:00Z"},
      {"2024-03-05T14:30:00+0300", "2024-03-05T11:30:00Z"},
      {"2024-03-05T14:30:00+03", "2024-03-05T11:30:00Z"},
      {"2024-03-05 14:30:00 -05:00", "2024-03-05T19:30:00Z"},
      {"2024-03-05T14:30:00.123+03:00", "2024-03-05T11:30:00.123Z"},
      {"2024-03-05T14:30:00,5Z", "2024-03-05T14:30:00.5Z"},
      {"2024-03-05T14:30:00.123456789Z", "2024-03-05T14:30:00.123456789Z"},
      {"2024-03-05 14:30:00 UTC", "2024-03-05T14:30:00Z"},
      {"2024-03-05 14:30:00 GMT+3", "2024-03-05T11:30:00Z"},
      {"2024-03-05 14:30:00 Europe/Berlin", "2024-03-05T13:30:00Z"},
      {"2024-03-05", "2024-03-04T21:00:00Z"},
      {"20240305", "2024-03-04T21:00:00Z"},
      {"20240305143000", "2024-03-05T11:30:00Z"},
      {"20240305T143000Z", "2024-03-05T14:30:00Z"},
      {"1709649000", "2024-03-05T14:30:00Z"},
      {"1709649000123", "2024-03-05T14:30:00.123Z"},
      {"1709649000000", "2024-03-05T14:30:00Z"},
      {"1709649000.5", "2024-03-05T14:30:00.5Z"},
      {"Tue, 05 Mar 2024 14:30:00 +0300", "2024-03-05T11:30:00Z"},
      {"Tue Mar 05 2024 14:30:00 GMT+0300 (Moscow Standard Time)", "2024-03-05T11:30:00Z"},
      {"5 Mar 2024 14:30", "2024-03-05T11:30:00Z"},
      {"March 5, 2024 2:30 PM", "2024-03-05T11:30:00Z"},
      {"05-Mar-2024 14:30", "2024-03-05T11:30:00Z"},
      {"5 марта 2024 14:30", "2024-03-05T11:30:00Z"},
      {"  2024-03-05 14:30  ", "2024-03-05T11:30:00Z"},
      {"2024-02-29 00:00", "2024-02-28T21:00:00Z"},
  };
  for (const auto& [input, expected] : cases) {
    INFO(input);
    CHECK(moscow.to_utc_iso(input) == expected);
  }
}

TEST_CASE("timestamps that are not timestamps", "[transforms][cast][timestamp]") {
  TimestampParser utc = parser();
  for (const char* input : {"", "abc", "2024-13-01", "2024-02-30", "2023-02-29", "2024-03-05 25:00", "2024-03-05 14:60",
                            "2024-03-05 14:30:61", "13/13/2024", "2024", "12345", "2024-03-05 14:30 Mars/Olympus",
                            "2024-03-05 13:30 PM", "2024-03-05 0:30 AM", "2024-03-05 14:30 +25:00", "05.03.2024x",
                            "1709649000.1234567891", "99999999999999999999", "2024-03-05T"}) {
    INFO(input);
    CHECK(utc.to_utc_iso(input) == std::nullopt);
  }
}

TEST_CASE("day_first decides slashed dates; dotted dates are always day first", "[transforms][cast][timestamp]") {
  CHECK(parser("UTC", false).to_date("03/05/2024") == "2024-03-05");
  CHECK(parser("UTC", true).to_date("03/05/2024") == "2024-05-03");
  CHECK(parser("UTC", true).to_date("03-05-2024") == "2024-05-03");
  CHECK(parser("UTC", false).to_date("05.03.2024") == "2024-03-05");
  CHECK(parser("UTC", false).to_date("25/03/2024") == std::nullopt);  // not silently day-first
  CHECK(parser("UTC", true).to_date("25/03/2024") == "2024-03-25");
}

TEST_CASE("DST: skipped wall times move forward, repeated ones take the earlier instant",
          "[transforms][cast][timestamp]") {
  TimestampParser berlin = parser("Europe/Berlin");
  CHECK(berlin.to_utc_iso("2024-01-15 12:00") == "2024-01-15T11:00:00Z");  // CET +01
  CHECK(berlin.to_utc_iso("2024-07-15 12:00") == "2024-07-15T10:00:00Z");  // CEST +02
  CHECK(berlin.to_utc_iso("2024-03-31 01:59:59") == "2024-03-31T00:59:59Z");
  CHECK(berlin.to_utc_iso("2024-03-31 02:30") == "2024-03-31T01:30:00Z");  // gap: read with the former offset
  CHECK(berlin.to_utc_iso("2024-03-31 03:00") == "2024-03-31T01:00:00Z");
  CHECK(berlin.to_utc_iso("2024-10-27 02:30") == "2024-10-27T00:30:00Z");  // repeated: the first (CEST) one
  CHECK(berlin.to_utc_iso("2024-10-27 03:30") == "2024-10-27T02:30:00Z");
  TimestampParser new_york = parser("America/New_York");
  CHECK(new_york.to_utc_iso("2024-03-10 02:30") == "2024-03-10T07:30:00Z");
  CHECK(new_york.to_utc_iso("2024-11-03 01:30") == "2024-11-03T05:30:00Z");
  CHECK(new_york.to_utc_iso("2024-07-04 12:00") == "2024-07-04T16:00:00Z");
  // Moscow kept +04 (summer time) in 2010, +04 all year 2011-2014, +03 since.
  TimestampParser moscow = parser("Europe/Moscow");
  CHECK(moscow.to_utc_iso("2010-07-01 12:00") == "2010-07-01T08:00:00Z");
  CHECK(moscow.to_utc_iso("2013-01-15 12:00") == "2013-01-15T08:00:00Z");
  CHECK(moscow.to_utc_iso("2024-01-15 12:00") == "2024-01-15T09:00:00Z");
  // An explicit offset wins over the configured zone.
  CHECK(berlin.to_utc_iso("2024-07-15 12:00Z") == "2024-07-15T12:00:00Z");
}

TEST_CASE("dates keep the calendar day as written", "[transforms][cast][timestamp]") {
  TimestampParser moscow = parser("Europe/Moscow");
  CHECK(moscow.to_date("2024-03-05") == "2024-03-05");
  CHECK(moscow.to_date("2024-03-05T23:30:00-05:00") == "2024-03-05");
  CHECK(moscow.to_date("05.03.2024") == "2024-03-05");
  CHECK(moscow.to_date("1709672400") == "2024-03-06");  // 2024-03-05T21:00:00Z is already the 6th in Moscow
  CHECK(parser().to_date("1709672400") == "2024-03-05");
  CHECK(moscow.to_date("not a date") == std::nullopt);
}

TEST_CASE("strptime-like formats", "[transforms][cast][timestamp]") {
  TimestampParser custom = parser("Europe/Moscow", false, {"%d/%m/%Y %H.%M", "%Y%m%d-%H%M%S", "auto"});
  CHECK(custom.to_utc_iso("05/03/2024 14.30") == "2024-03-05T11:30:00Z");
  CHECK(custom.to_utc_iso("20240305-143000") == "2024-03-05T11:30:00Z");
  CHECK(custom.to_utc_iso("2024-03-05 14:30") == "2024-03-05T11:30:00Z");  // falls through to auto
  TimestampParser only = parser("UTC", false, {"%d %b %Y %I:%M %p %z"});
  CHECK(only.to_utc_iso("05 Mar 2024 02:30 PM +0100") == "2024-03-05T13:30:00Z");
  CHECK(only.to_utc_iso("2024-03-05 14:30") == std::nullopt);  // auto not listed
  CHECK(parser("UTC", false, {"%s"}).to_utc_iso("1709649000") == "2024-03-05T14:30:00Z");
  CHECK(parser("UTC", false, {"%F %T.%f"}).to_utc_iso("2024-03-05 14:30:00.25") == "2024-03-05T14:30:00.25Z");
  CHECK(parser("UTC", false, {"%a, %d %B %Y"}).to_utc_iso("Tuesday, 05 March 2024") == "2024-03-05T00:00:00Z");
  CHECK(parser("UTC", false, {"%D"}).to_date("03/05/24") == "2024-03-05");
}

TEST_CASE("timestamp parser errors", "[transforms][cast][timestamp]") {
  TimestampOptions options;
  options.timezone = "Mars/Olympus";
  auto bad_zone = TimestampParser::create(options);
  REQUIRE_FALSE(bad_zone.is_ok());
  CHECK(bad_zone.status().message().find("unknown time zone 'Mars/Olympus'") == 0);
  options.timezone = "UTC";
  options.formats = {"%d/%m/%Q"};
  CHECK(TimestampParser::create(options).status().message() == "timestamp format '%d/%m/%Q' unknown directive '%Q'");
  options.formats = {"%H:%M"};
  CHECK(TimestampParser::create(options).status().message().find("has no complete date") != std::string::npos);
  options.formats = {"%Y-%m-%"};
  CHECK_FALSE(TimestampParser::create(options).is_ok());
}
