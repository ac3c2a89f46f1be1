#include "interleave/options.h"

#include <absl/strings/escaping.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <vector>

#include "explore/trace_export.h"
#include "model/strategies/registry.h"
#include "quote.h"

extern char** environ;

namespace interleave {

namespace {

constexpr std::string_view kPrefix = "INTERLEAVE_";
constexpr std::string_view kPerturbationForm =
    "'off', 'light', 'heavy', or per-mille rates 'yield=<n>,spin=<n>,sleep=<n>' (any of the three, each 0..1000, "
    "summing to at most 1000)";

// The value is quoted escaped and at most 80 bytes of it: an environment variable can hold 128 KiB
// of anything, control characters included.
[[noreturn]] void bad_value(std::string_view name, std::string_view value, std::string_view accepted) {
  throw std::invalid_argument(absl::StrFormat("interleave: environment variable %s=%s is not valid; accepted: %s", name,
                                              detail::quote_input(value), accepted));
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
         const detail::model::StrategyEntry* entry = detail::model::find_strategy(v);
         if (entry == nullptr || !entry->explorable) bad_value(n, v, detail::model::explorable_strategy_names());
         o.strategy = entry->strategy;
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
      {"INTERLEAVE_MEMORY_MODEL",
       [](Options& o, std::string_view n, std::string_view v) {
         if (v == "weak") {
           o.memory_model = MemoryModel::weak;
         } else if (v == "sc") {
           o.memory_model = MemoryModel::sc;
         } else {
           bad_value(n, v, "'weak' or 'sc'");
         }
       }},
      {"INTERLEAVE_STORE_HISTORY",
       [](Options& o, std::string_view n, std::string_view v) {
         o.store_history = static_cast<int>(parse_unsigned(n, v, 1, 64, "an integer from 1 to 64"));
       }},
      {"INTERLEAVE_SPURIOUS_CAS_FAILURES",
       [](Options& o, std::string_view n, std::string_view v) {
         o.spurious_cas_permille =
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
      {"INTERLEAVE_STRESS_ITERATIONS",
       [](Options& o, std::string_view n, std::string_view v) {
         o.stress_iterations = parse_unsigned(n, v, 1, UINT64_MAX, "an integer >= 1");
       }},
      {"INTERLEAVE_STRESS_MILLISECONDS",
       [](Options& o, std::string_view n, std::string_view v) {
         o.stress_milliseconds =
             parse_unsigned(n, v, 0, UINT64_MAX, "an integer >= 0 (milliseconds; 0 means no time budget)");
       }},
      {"INTERLEAVE_STRESS_TIMEOUT_MS",
       [](Options& o, std::string_view n, std::string_view v) {
         o.stress_timeout_ms = parse_unsigned(n, v, 1, UINT64_MAX, "an integer >= 1 (milliseconds)");
       }},
      {"INTERLEAVE_RACE_DETECTOR",
       [](Options& o, std::string_view n, std::string_view v) {
         if (v == "on") {
           o.race_detector = true;
         } else if (v == "off") {
           o.race_detector = false;
         } else {
           bad_value(n, v, "'on' or 'off'");
         }
       }},
      {"INTERLEAVE_SHRINK_RUNS",
       [](Options& o, std::string_view n, std::string_view v) {
         o.shrink_runs = parse_unsigned(n, v, 0, UINT64_MAX, "an integer >= 0 (0 turns shrinking off)");
       }},
      {"INTERLEAVE_JOBS",
       [](Options& o, std::string_view n, std::string_view v) {
         o.jobs = v == "auto"
                      ? 0U
                      : static_cast<unsigned>(parse_unsigned(n, v, 1, 1024, "'auto' or an integer from 1 to 1024"));
       }},
      {"INTERLEAVE_PROGRESS",
       [](Options& o, std::string_view n, std::string_view v) {
         if (v == "auto") {
           o.progress = Progress::automatic;
         } else if (v == "on") {
           o.progress = Progress::on;
         } else if (v == "off") {
           o.progress = Progress::off;
         } else {
           bad_value(n, v, "'auto', 'on' or 'off'");
         }
       }},
      {"INTERLEAVE_EXPECTED_FAILURE_REPORTS",
       [](Options& o, std::string_view n, std::string_view v) {
         if (v != "on" && v != "off") bad_value(n, v, "'on' or 'off'");
         o.expected_failure_reports = v == "on";
       }},
      {"INTERLEAVE_TRACE",
       [](Options& o, std::string_view n, std::string_view v) {
         if (!detail::is_trace_path(v)) bad_value(n, v, detail::kTracePathForm);
         o.trace_path = std::string(v);
       }},
      {"INTERLEAVE_REGRESSIONS",
       [](Options& o, std::string_view n, std::string_view v) {
         if (v.empty()) bad_value(n, v, "'off' or the directory of the regression files (<directory>/<Suite>.txt)");
         o.regressions = std::string(v);
       }},
      {"INTERLEAVE_PERTURB",
       [](Options& o, std::string_view n, std::string_view v) {
         try {
           o.perturbation = Perturbation::parse(v);
         } catch (const std::invalid_argument&) {
           bad_value(n, v, kPerturbationForm);
         }
       }},
      {"INTERLEAVE_WATCHDOG_MS",
       [](Options& o, std::string_view n, std::string_view v) {
         o.watchdog_ms =
             parse_unsigned(n, v, 0, UINT64_MAX, "an integer >= 0 (milliseconds; 0 turns the watchdog off)");
       }},
  };
  return all;
}

struct Sharding {
  std::uint64_t count = 1;
  std::uint64_t index = 0;
};

// GTEST_TOTAL_SHARDS / GTEST_SHARD_INDEX, validated; nullopt when neither is set.
std::optional<Sharding> sharding_from_environment() {
  const char* total = std::getenv("GTEST_TOTAL_SHARDS");
  const char* index = std::getenv("GTEST_SHARD_INDEX");
  if (total == nullptr && index == nullptr) return std::nullopt;
  if (total == nullptr || index == nullptr) {
    throw std::invalid_argument(
        absl::StrCat("interleave: ",
                     total == nullptr ? "GTEST_SHARD_INDEX is set without GTEST_TOTAL_SHARDS"
                                      : "GTEST_TOTAL_SHARDS is set without GTEST_SHARD_INDEX",
                     "; set both (GTEST_TOTAL_SHARDS=<n >= 1>, GTEST_SHARD_INDEX=<0..n-1>) or neither"));
  }
  Sharding s;
  s.count = parse_unsigned("GTEST_TOTAL_SHARDS", total, 1, UINT64_MAX, "an integer >= 1");
  s.index = parse_unsigned("GTEST_SHARD_INDEX", index, 0, s.count - 1,
                           absl::StrCat("an integer from 0 to GTEST_TOTAL_SHARDS - 1 = ", s.count - 1));
  return s;
}

// Set by take_over_test_sharding().
std::optional<Sharding>& taken_sharding() {
  static std::optional<Sharding> taken;
  return taken;
}

}  // namespace

void take_over_test_sharding() {
  const std::optional<Sharding> s = sharding_from_environment();
  if (!s) return;
  taken_sharding() = s;
  ::unsetenv("GTEST_TOTAL_SHARDS");
  ::unsetenv("GTEST_SHARD_INDEX");
}

std::string Perturbation::describe() const {
  if (*this == off()) return "off";
  if (*this == light()) return "light";
  if (*this == heavy()) return "heavy";
  return absl::StrFormat("yield=%d,spin=%d,sleep=%d", yield_permille, spin_permille, sleep_permille);
}

Perturbation Perturbation::parse(std::string_view text) {
  const auto refuse = [text]() -> Perturbation {
    // C escapes: what() is a C string, so a NUL byte quoted raw would cut off the accepted form.
    throw std::invalid_argument(absl::StrCat("interleave: perturbation ", detail::quote_input(text),
                                             " is not valid; accepted: ", std::string(kPerturbationForm)));
    return {};
  };
  if (text == "off") return off();
  if (text == "light") return light();
  if (text == "heavy") return heavy();
  if (text.empty()) return refuse();
  Perturbation p;
  bool seen[3] = {false, false, false};
  std::string_view rest = text;
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) return refuse();
    const std::string_view key = item.substr(0, eq);
    const std::string_view number = item.substr(eq + 1);
    int which = key == "yield" ? 0 : key == "spin" ? 1 : key == "sleep" ? 2 : -1;
    if (which < 0 || seen[which]) return refuse();
    seen[which] = true;
    // Decimal digits; leading zeros are allowed, as in every other INTERLEAVE_* number.
    if (number.empty() || number.find_first_not_of("0123456789") != std::string_view::npos) return refuse();
    const std::string_view significant = number.substr(std::min(number.find_first_not_of('0'), number.size()));
    std::uint32_t value = 0;
    if (significant.size() > 4 ||
        (!significant.empty() &&
         !absl::SimpleAtoi(absl::string_view(significant.data(), significant.size()), &value)) ||
        value > 1000) {
      return refuse();
    }
    (which == 0 ? p.yield_permille : which == 1 ? p.spin_permille : p.sleep_permille) = static_cast<int>(value);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (p.yield_permille + p.spin_permille + p.sleep_permille > 1000) return refuse();
  return p;
}

std::string_view to_string(Strategy s) noexcept { return detail::model::strategy_entry(s).name; }

std::string_view to_string(MemoryModel m) noexcept { return m == MemoryModel::sc ? "sc" : "weak"; }

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
      // A name is shown as is when it is an identifier, else quoted like a value (it can hold anything but '=').
      const bool plain = !name.empty() && name.size() <= detail::kQuotedBytes &&
                         name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
                             std::string_view::npos;
      throw std::invalid_argument(absl::StrCat("interleave: unknown environment variable ",
                                               plain ? std::string(name) : detail::quote_input(name),
                                               "; the INTERLEAVE_ variables are: ", absl::StrJoin(names, ", ")));
    }
    known->apply(*this, name, value);
  }
  const std::optional<Sharding> sharding = taken_sharding() ? taken_sharding() : sharding_from_environment();
  if (sharding) {
    shard_count = sharding->count;
    shard_index = sharding->index;
  }
}

std::string Options::describe() const {
  return absl::StrFormat(
      "strategy=%s%s%s schedules=%u max_steps=%u spurious_wakeups=%d/1000 memory_model=%s "
      "report_steps=%d "
      "stack_kib=%u watchdog_ms=%u%s%s stress_iterations=%u stress_milliseconds=%u stress_timeout_ms=%u perturb=%s%s "
      "shrink_runs=%u "
      "jobs=%s%s%s",
      to_string(strategy),
      // The depth applies to PCT alone (the portfolio's members have their own); DPOR draws nothing.
      strategy == Strategy::pct ? absl::StrCat(" pct_depth=", pct_depth) : std::string(),
      strategy == Strategy::dpor ? std::string() : absl::StrFormat(" seed=0x%x", seed), schedules, max_steps,
      spurious_wakeup_permille,
      memory_model == MemoryModel::sc ? std::string("sc")
                                      : absl::StrCat("weak store_history=", store_history,
                                                     " spurious_cas_failures=", spurious_cas_permille, "/1000"),
      report_steps, stack_kib, watchdog_ms, replay.empty() ? "" : absl::StrCat(" replay=", replay),
      regressions.empty() ? "" : absl::StrCat(" regressions=", regressions), stress_iterations, stress_milliseconds,
      stress_timeout_ms, perturbation.describe(),
      race_detector ? (*race_detector ? " race_detector=on" : " race_detector=off") : "", shrink_runs,
      jobs == 0 ? std::string("auto") : absl::StrCat(jobs),
      shard_count > 1 ? absl::StrCat(" shard=", shard_index, "/", shard_count) : std::string(),
      trace_path.empty() ? "" : absl::StrCat(" trace=", trace_path));
}

}  // namespace interleave
