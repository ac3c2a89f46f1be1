#include "interleave/options.h"

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

extern char** environ;

namespace interleave {

namespace {

constexpr std::string_view kPrefix = "INTERLEAVE_";

[[noreturn]] void bad_value(std::string_view name, std::string_view value, std::string_view accepted) {
  throw std::invalid_argument(absl::StrFormat("interleave: environment variable %s='%s' is not valid; accepted: %s",
                                              name, value, accepted));
}

std::uint64_t parse_unsigned(std::string_view name, std::string_view value, std::uint64_t min, std::uint64_t max,
                             std::string_view accepted) {
  std::uint64_t result = 0;
  bool ok = false;
  if (value.size() > 2 && (value.substr(0, 2) == "0x" || value.substr(0, 2) == "0X")) {
    // Hex digits only: SimpleHexAtoi alone also takes a sign, surrounding spaces and a second "0x".
    ok = value.substr(2).find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos &&
         absl::SimpleHexAtoi(absl::string_view(value.data() + 2, value.size() - 2), &result);
  } else {
    ok = !value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos &&
         absl::SimpleAtoi(absl::string_view(value.data(), value.size()), &result);
  }
  if (!ok || result < min || result > max) bad_value(name, value, accepted);
  return result;
}

struct Variable {
  std::string_view name;
  void (*apply)(Options&, std::string_view name, std::string_view value);
};

const std::vector<Variable>& variables() {
  static const std::vector<Variable> all = {
      {"INTERLEAVE_STRATEGY",
       [](Options& o, std::string_view n, std::string_view v) {
         if (v == "random") {
           o.strategy = Strategy::random_walk;
         } else if (v == "pct") {
           o.strategy = Strategy::pct;
         } else {
           bad_value(n, v, "'random' or 'pct'");
         }
       }},
      {"INTERLEAVE_PCT_DEPTH",
       [](Options& o, std::string_view n, std::string_view v) {
         o.pct_depth = static_cast<int>(parse_unsigned(n, v, 1, 64, "an integer from 1 to 64"));
       }},
      {"INTERLEAVE_SEED",
       [](Options& o, std::string_view n, std::string_view v) {
         o.seed = parse_unsigned(n, v, 0, UINT64_MAX, "an unsigned 64-bit integer, decimal or 0x-hexadecimal");
       }},
      {"INTERLEAVE_SCHEDULES",
       [](Options& o, std::string_view n, std::string_view v) {
         o.schedules = parse_unsigned(n, v, 1, UINT64_MAX, "an integer >= 1");
       }},
      {"INTERLEAVE_MAX_STEPS",
       [](Options& o, std::string_view n, std::string_view v) {
         o.max_steps = parse_unsigned(n, v, 1, UINT64_MAX, "an integer >= 1");
       }},
      {"INTERLEAVE_SPURIOUS_WAKEUPS",
       [](Options& o, std::string_view n, std::string_view v) {
         o.spurious_wakeup_permille =
             static_cast<int>(parse_unsigned(n, v, 0, 1000, "a per-mille rate, an integer from 0 to 1000"));
       }},
      {"INTERLEAVE_REPORT_STEPS",
       [](Options& o, std::string_view n, std::string_view v) {
         o.report_steps = static_cast<int>(parse_unsigned(n, v, 0, 100'000, "an integer from 0 to 100000"));
       }},
      {"INTERLEAVE_REPLAY",
       [](Options& o, std::string_view n, std::string_view v) {
         if (v.empty()) bad_value(n, v, "a schedule token as printed in a failure report");
         o.replay = std::string(v);
       }},
      {"INTERLEAVE_STACK_KIB",
       [](Options& o, std::string_view n, std::string_view v) {
         o.stack_kib = parse_unsigned(n, v, 16, 1 << 20, "an integer from 16 to 1048576 (KiB)");
       }},
  };
  return all;
}

}  // namespace

std::string_view to_string(Strategy s) noexcept {
  switch (s) {
    case Strategy::random_walk:
      return "random";
    case Strategy::pct:
      return "pct";
  }
  return "?";
}

void Options::apply_environment() {
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view line = *entry;
    if (line.substr(0, kPrefix.size()) != kPrefix) continue;
    const auto eq = line.find('=');
    const std::string_view name = line.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : line.substr(eq + 1);
    const Variable* known = nullptr;
    for (const auto& v : variables()) {
      if (v.name == name) known = &v;
    }
    if (known == nullptr) {
      std::vector<std::string> names;
      for (const auto& v : variables()) names.emplace_back(v.name);
      throw std::invalid_argument(absl::StrCat("interleave: unknown environment variable ", std::string(name),
                                               "; the INTERLEAVE_ variables are: ", absl::StrJoin(names, ", ")));
    }
    known->apply(*this, name, value);
  }
}

std::string Options::describe() const {
  return absl::StrFormat(
      "strategy=%s pct_depth=%d seed=0x%x schedules=%u max_steps=%u spurious_wakeups=%d/1000 report_steps=%d "
      "stack_kib=%u%s",
      to_string(strategy), pct_depth, seed, schedules, max_steps, spurious_wakeup_permille, report_steps, stack_kib,
      replay.empty() ? "" : absl::StrCat(" replay=", replay));
}

}  // namespace interleave
