// Fuzzes Options::apply_environment, the parser of the INTERLEAVE_* environment variables.
//
// Input: lines NAME=VALUE (split at the first '='; a line without '=' has an empty value). NAME is
// mapped so that the fuzzer reaches every case cheaply:
//   a single digit 0..9       one of the first ten names apply_environment knows (the nine below first)
//   '+' then text             INTERLEAVE_<text>: mostly unknown names, which must be rejected
//   text starting INTERLEAVE  as written (INTERLEAVE, INTERLEAVEX, INTERLEAVE_SEED, ...)
//   anything else             FUZZ_<text>: not ours, must be ignored
// Each line is put into the environment, apply_environment runs, and every variable is removed.
// The result is checked against an independent statement of the accepted forms (README's table):
//   - it throws std::invalid_argument, and only when some INTERLEAVE_ name is unknown or some known
//     variable's value is malformed or out of range (the message names INTERLEAVE_ and what is
//     accepted); any other exception, crash, sanitizer report or hang is a finding;
//   - when it returns, every field holds exactly the value its variable states.
// The names apply_environment knows are read at start-up from its own error for an unknown name
// (which lists them). Those with a form stated below are checked exactly; for a name added to
// options.cpp but not yet below, inputs that set it are checked only for crashes and for throwing
// nothing but std::invalid_argument (the fuzzer says so at start-up: add the new form here).
// putenv (not setenv) with buffers owned here: glibc's setenv keeps every distinct string it was
// given for the life of the process, which over millions of inputs would grow without bound.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "interleave/options.h"

extern char** environ;

namespace {

constexpr std::string_view kSpecified[] = {
    "INTERLEAVE_STRATEGY",
    "INTERLEAVE_PCT_DEPTH",
    "INTERLEAVE_SEED",
    "INTERLEAVE_SCHEDULES",
    "INTERLEAVE_MAX_STEPS",
    "INTERLEAVE_SPURIOUS_WAKEUPS",
    "INTERLEAVE_REPORT_STEPS",
    "INTERLEAVE_REPLAY",
    "INTERLEAVE_STACK_KIB",
    "INTERLEAVE_WATCHDOG_MS",
    "INTERLEAVE_REGRESSIONS",
    "INTERLEAVE_STRESS_ITERATIONS",
    "INTERLEAVE_STRESS_MILLISECONDS",
    "INTERLEAVE_STRESS_TIMEOUT_MS",
    "INTERLEAVE_RACE_DETECTOR",
    "INTERLEAVE_SHRINK_RUNS",
    "INTERLEAVE_JOBS",
    "INTERLEAVE_PROGRESS",
    "INTERLEAVE_TRACE",
    "INTERLEAVE_PERTURB",
};
constexpr std::size_t kMaxLines = 16;

std::vector<std::string>& known_names() {
  static std::vector<std::string> names;
  return names;
}

bool specified(std::string_view name) {
  for (const auto known : kSpecified) {
    if (known == name) return true;
  }
  return false;
}

bool known(std::string_view name) {
  for (const auto& k : known_names()) {
    if (k == name) return true;
  }
  return false;
}

[[noreturn]] void finding(const char* what, const std::map<std::string, std::string>& env, const std::string& detail) {
  std::fprintf(stderr, "environment_fuzzer: %s\n", what);
  for (const auto& [name, value] : env) std::fprintf(stderr, "  %s='%s'\n", name.c_str(), value.c_str());
  std::fprintf(stderr, "  %s\n", detail.c_str());
  std::abort();
}

// The accepted numeric form, stated independently of the parser: decimal digits, or 0x/0X and
// hexadecimal digits; the value fits in 64 bits and lies in [min, max].
std::optional<std::uint64_t> number(std::string_view v, std::uint64_t min, std::uint64_t max) {
  unsigned base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    base = 16;
    v.remove_prefix(2);
  }
  if (v.empty()) return std::nullopt;
  unsigned __int128 value = 0;
  for (const char c : v) {
    unsigned digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    value = value * base + digit;
    if (value > UINT64_MAX) return std::nullopt;
  }
  const auto result = static_cast<std::uint64_t>(value);
  if (result < min || result > max) return std::nullopt;
  return result;
}

// What the environment should yield: the options, or nothing when it must be rejected. `checked`
// turns false when a variable without a stated form is set and the input was otherwise valid.
std::optional<interleave::Options> expected(const std::map<std::string, std::string>& env, bool& checked) {
  interleave::Options o;
  checked = true;
  for (const auto& [name, value] : env) {
    if (name.rfind("INTERLEAVE_", 0) != 0) continue;
    if (!known(name)) return std::nullopt;
    if (!specified(name)) {
      checked = false;
      continue;
    }
    std::optional<std::uint64_t> n;
    if (name == "INTERLEAVE_STRATEGY") {
      if (value == "random") {
        o.strategy = interleave::Strategy::random_walk;
      } else if (value == "pct") {
        o.strategy = interleave::Strategy::pct;
      } else {
        return std::nullopt;
      }
    } else if (name == "INTERLEAVE_PCT_DEPTH") {
      if (!(n = number(value, 1, 64))) return std::nullopt;
      o.pct_depth = static_cast<int>(*n);
    } else if (name == "INTERLEAVE_SEED") {
      if (!(n = number(value, 0, UINT64_MAX))) return std::nullopt;
      o.seed = *n;
    } else if (name == "INTERLEAVE_SCHEDULES") {
      if (!(n = number(value, 1, UINT64_MAX))) return std::nullopt;
      o.schedules = *n;
    } else if (name == "INTERLEAVE_MAX_STEPS") {
      if (!(n = number(value, 1, UINT64_MAX))) return std::nullopt;
      o.max_steps = *n;
    } else if (name == "INTERLEAVE_SPURIOUS_WAKEUPS") {
      if (!(n = number(value, 0, 1000))) return std::nullopt;
      o.spurious_wakeup_permille = static_cast<int>(*n);
    } else if (name == "INTERLEAVE_REPORT_STEPS") {
      if (!(n = number(value, 0, 100'000))) return std::nullopt;
      o.report_steps = static_cast<int>(*n);
    } else if (name == "INTERLEAVE_REPLAY") {
      if (value.empty()) return std::nullopt;  // the token itself is checked by explore()
      o.replay = value;
    } else if (name == "INTERLEAVE_REGRESSIONS") {
      if (value.empty()) return std::nullopt;  // 'off' or a directory, used as written
      o.regressions = value;
    } else if (name == "INTERLEAVE_STACK_KIB") {
      if (!(n = number(value, 16, 1U << 20))) return std::nullopt;
      o.stack_kib = *n;
    } else if (name == "INTERLEAVE_WATCHDOG_MS") {
      if (!(n = number(value, 0, UINT64_MAX))) return std::nullopt;
      o.watchdog_ms = *n;
    } else if (name == "INTERLEAVE_STRESS_ITERATIONS") {
      if (!(n = number(value, 1, UINT64_MAX))) return std::nullopt;
      o.stress_iterations = *n;
    } else if (name == "INTERLEAVE_STRESS_MILLISECONDS") {
      if (!(n = number(value, 0, UINT64_MAX))) return std::nullopt;
      o.stress_milliseconds = *n;
    } else if (name == "INTERLEAVE_STRESS_TIMEOUT_MS") {
      if (!(n = number(value, 1, UINT64_MAX))) return std::nullopt;
      o.stress_timeout_ms = *n;
    } else if (name == "INTERLEAVE_SHRINK_RUNS") {
      if (!(n = number(value, 0, UINT64_MAX))) return std::nullopt;
      o.shrink_runs = *n;
    } else if (name == "INTERLEAVE_RACE_DETECTOR") {
      if (value != "on" && value != "off") return std::nullopt;
      o.race_detector = value == "on";
    } else if (name == "INTERLEAVE_JOBS") {
      if (value == "auto") {
        o.jobs = 0;
      } else {
        if (!(n = number(value, 1, 1024))) return std::nullopt;
        o.jobs = static_cast<unsigned>(*n);
      }
    } else if (name == "INTERLEAVE_PROGRESS") {
      if (value == "auto") {
        o.progress = interleave::Progress::automatic;
      } else if (value == "on") {
        o.progress = interleave::Progress::on;
      } else if (value == "off") {
        o.progress = interleave::Progress::off;
      } else {
        return std::nullopt;
      }
    } else if (name == "INTERLEAVE_TRACE") {
      // <name>.json or <name>.html, where <name> is not empty and does not end in '/'.
      const bool json = value.size() > 5 && value.ends_with(".json");
      const bool html = value.size() > 5 && value.ends_with(".html");
      if ((!json && !html) || value[value.size() - 6] == '/') return std::nullopt;
      o.trace_path = value;
    } else if (name == "INTERLEAVE_PERTURB") {
      // The form itself is stated and fuzzed by perturbation_fuzzer; here, that the variable
      // reaches Options exactly as Perturbation::parse reads it, and is refused when parse refuses.
      try {
        o.perturbation = interleave::Perturbation::parse(value);
      } catch (const std::invalid_argument&) {
        return std::nullopt;
      }
    } else {
      return std::nullopt;  // an unknown INTERLEAVE_ name
    }
  }
  return o;
}

bool same(const interleave::Options& a, const interleave::Options& b) {
  return a.strategy == b.strategy && a.pct_depth == b.pct_depth && a.seed == b.seed && a.schedules == b.schedules &&
         a.max_steps == b.max_steps && a.spurious_wakeup_permille == b.spurious_wakeup_permille &&
         a.report_steps == b.report_steps && a.replay == b.replay && a.stack_kib == b.stack_kib &&
         a.watchdog_ms == b.watchdog_ms && a.regressions == b.regressions &&
         a.stress_iterations == b.stress_iterations && a.stress_milliseconds == b.stress_milliseconds &&
         a.stress_timeout_ms == b.stress_timeout_ms && a.shrink_runs == b.shrink_runs &&
         a.race_detector == b.race_detector && a.jobs == b.jobs && a.progress == b.progress &&
         a.trace_path == b.trace_path && a.perturbation == b.perturbation;
}

std::string mapped_name(std::string_view raw) {
  const auto& names = known_names();
  if (raw.size() == 1 && raw[0] >= '0' && raw[0] <= '9' && static_cast<std::size_t>(raw[0] - '0') < names.size()) {
    return names[static_cast<std::size_t>(raw[0] - '0')];
  }
  if (!raw.empty() && raw[0] == '+') return "INTERLEAVE_" + std::string(raw.substr(1));
  if (raw.rfind("INTERLEAVE", 0) == 0) return std::string(raw);
  return "FUZZ_" + std::string(raw);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Start from an environment without INTERLEAVE_* variables, whatever the caller had set.
  std::vector<std::string> ours;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry = *e;
    if (entry.rfind("INTERLEAVE", 0) == 0) ours.emplace_back(entry.substr(0, entry.find('=')));
  }
  for (const auto& name : ours) unsetenv(name.c_str());

  // "...unknown environment variable INTERLEAVE_X; the INTERLEAVE_ variables are: A, B, C"
  constexpr std::string_view kList = "the INTERLEAVE_ variables are: ";
  setenv("INTERLEAVE_FUZZER_PROBE", "1", 1);
  std::string message;
  try {
    interleave::Options probe;
    probe.apply_environment();
  } catch (const std::invalid_argument& e) {
    message = e.what();
  }
  unsetenv("INTERLEAVE_FUZZER_PROBE");
  const std::size_t at = message.find(kList);
  if (at == std::string::npos) {
    std::fprintf(stderr, "environment_fuzzer: an unknown INTERLEAVE_ name did not get the list of names: '%s'\n",
                 message.c_str());
    std::abort();
  }
  std::string_view list = std::string_view(message).substr(at + kList.size());
  while (!list.empty()) {
    const std::size_t comma = list.find(", ");
    known_names().emplace_back(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 2);
  }
  for (const auto name : kSpecified) {
    if (!known(name)) {
      std::fprintf(stderr, "environment_fuzzer: %.*s is no longer a known variable\n", static_cast<int>(name.size()),
                   name.data());
      std::abort();
    }
  }
  for (const auto& name : known_names()) {
    if (!specified(name))
      std::fprintf(stderr, "environment_fuzzer: no stated form for %s: only crashes are checked\n", name.c_str());
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> env;  // name -> value, the last line for a name wins
  std::vector<std::string> entries;        // putenv keeps pointers into these until unsetenv
  entries.reserve(kMaxLines);
  std::size_t start = 0;
  while (start <= input.size() && entries.size() < kMaxLines) {
    std::size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    start = end + 1;
    const std::size_t eq = line.find('=');
    const std::string_view raw_name = line.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : line.substr(eq + 1);
    if (raw_name.find('\0') != std::string_view::npos) continue;
    value = value.substr(0, value.find('\0'));  // the environment holds C strings
    const std::string name = mapped_name(raw_name);
    entries.push_back(name + "=" + std::string(value));
    env[name] = std::string(value);
    if (putenv(entries.back().data()) != 0) finding("putenv failed", env, entries.back());
  }

  bool checked = true;
  const std::optional<interleave::Options> want = expected(env, checked);
  interleave::Options got;
  try {
    got.apply_environment();
    if (!want) finding("a malformed or unknown variable was accepted", env, got.describe());
    if (checked && !same(got, *want)) finding("the options differ from the variables", env, got.describe());
    (void)got.describe();
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    if (want && checked) finding("a valid environment was rejected", env, message);
    if (message.find("INTERLEAVE_") == std::string::npos ||
        (message.find("accepted") == std::string::npos && message.find("variables are") == std::string::npos)) {
      finding("the error does not name the variable and what is accepted", env, message);
    }
  }
  for (const auto& [name, value] : env) unsetenv(name.c_str());
  return 0;
}
