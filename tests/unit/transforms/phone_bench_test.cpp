// Hidden benchmark (not part of the unit run): ns per number for each PhonePath on the shapes the 1M-row benchmark
// generates. Run with: conflux_unit_tests "[.phone_bench]"
#include <catch2/catch.hpp>

#include <time.h>

#include <cstdio>
#include <random>

#include "conflux/transforms/phone.hpp"

using conflux::transforms::PhoneFormat;
using conflux::transforms::PhoneNormalizer;
using conflux::transforms::PhonePath;

namespace {

std::vector<std::string> benchmark_shapes(size_t count) {
  std::mt19937 rng(7);
  auto digits = [&](size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += static_cast<char>('0' + rng() % 10);
    return out;
  };
  std::vector<std::string> out;
  out.reserve(count);
  while (out.size() < count) {
    std::string m = "9" + digits(9);  // RU mobile 9xx
    std::string a = m.substr(0, 3), b = m.substr(3, 3), c = m.substr(6, 2), d = m.substr(8, 2);
    std::string us = std::string("212") + static_cast<char>('2' + rng() % 8) + digits(6);
    std::string gb = "207" + digits(7);
    std::string de = std::string("30") + static_cast<char>('1' + rng() % 9) + digits(7);
    switch (rng() % 12) {
      case 0: out.push_back("+7 " + a + " " + b + "-" + c + "-" + d); break;
      case 1: out.push_back("8 (" + a + ") " + b + "-" + c + "-" + d); break;
      case 2: out.push_back("8" + m); break;
      case 3: out.push_back("+7" + m); break;
      case 4: out.push_back("8-" + a + "-" + b + "-" + c + "-" + d); break;
      case 5: out.push_back("+7 (" + a + ") " + b + " " + c + " " + d); break;
      case 6: out.push_back("+1 " + us.substr(0, 3) + "-" + us.substr(3, 3) + "-" + us.substr(6)); break;
      case 7: out.push_back("+1" + us); break;
      case 8: out.push_back("+44 " + gb.substr(0, 2) + " " + gb.substr(2, 4) + " " + gb.substr(6)); break;
      case 9: out.push_back("+44" + gb); break;
      case 10: out.push_back("+49 30 " + de.substr(2)); break;
      default: out.push_back("+49" + de); break;
    }
  }
  return out;
}

double ns_per_number(const PhoneNormalizer& phones, const std::vector<std::string>& inputs, PhonePath path,
                     size_t& valid) {
  // Thread CPU time, so that other processes on a shared machine inflate the numbers less than wall time would.
  auto cpu_ns = [] {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
  };
  valid = 0;
  const double start = cpu_ns();
  for (const std::string& input : inputs) valid += phones.normalize(input, path) ? 1 : 0;
  return (cpu_ns() - start) / static_cast<double>(inputs.size());
}

}  // namespace

TEST_CASE("phone normaliser speed per path", "[.phone_bench]") {
  auto created = PhoneNormalizer::create("RU", PhoneFormat::kE164);
  REQUIRE(created.is_ok());
  const PhoneNormalizer& phones = created.value();
  const std::vector<std::string> inputs = benchmark_shapes(100000);
  size_t valid_full = 0;
  size_t valid_fast = 0;
  double full = ns_per_number(phones, inputs, PhonePath::kFull, valid_full);
  double fast = ns_per_number(phones, inputs, PhonePath::kFastThenFull, valid_fast);
  std::printf("phone: %zu inputs (%zu valid): full %.0f ns, fast path %.0f ns\n", inputs.size(), valid_full, full,
              fast);
  CHECK(valid_fast == valid_full);
}
