// The scoreboard's command line: its flags, their checks, and the usage printed for --help.
#include <absl/strings/str_cat.h>
#include <absl/strings/str_split.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "scoreboard.h"

namespace scoreboard {
namespace {

constexpr std::string_view kUsage =
    "usage: scoreboard [--seeds=N] [--control-seeds=N] [--budget=N] [--real-ms=N] [--hang-ms=N] [--seed=N] "
    "[--output=PATH]\n"
    "                  [--filter=SUBSTRING] [--strategies=LIST] [--list] [--help]\n"
    "  --seeds=N          seeds per bug and strategy, 1..1000 (default 20)\n"
    "  --control-seeds=N  seeds per control (a correct primitive on a bug's scenario) and strategy,\n"
    "                     0..1000; 0 runs no control (default 5)\n"
    "  --budget=N         schedules per model run, iterations per real-thread run, 1..1000000 (default 1000)\n"
    "  --real-ms=N        a real-thread run starts no iteration after N ms, 1..3600000 (default 5000)\n"
    "  --hang-ms=N        a real-thread iteration without progress for N ms is a hang (found), 1..600000\n"
    "                     (default 200)\n"
    "  --seed=N           the first seed (decimal or 0x-hex); run k uses seed+k (default 1)\n"
    "  --output=PATH      where the markdown goes; - for standard output (default -)\n"
    "  --filter=SUBSTRING only the bugs whose name contains SUBSTRING (--list shows the names)\n"
    "  --strategies=LIST  comma-separated subset of "
    "random,pct1,pct2,pct3,pos,surw,portfolio,dpor,threads,perturbed,relacy "
    "(default "
    "all)\n"
    "  --list             print the bugs and their scenarios, and exit\n";

std::uint64_t parse_number(const std::string& flag, const std::string& text, std::uint64_t low, std::uint64_t high) {
  std::uint64_t value = 0;
  int base = 10;
  std::string_view digits = text;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    base = 16;
    digits.remove_prefix(2);
  }
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || value < low || value > high) {
    bad_flag(absl::StrCat("--", flag, "=", text, " is not accepted: expected an integer from ", low, " to ", high,
                          flag == "seed" ? " (decimal or 0x-hex)" : ""));
  }
  return value;
}

// The strategies a --strategies list names, in its order, each once.
std::vector<const StrategyInfo*> parse_strategies(const std::string& strategies) {
  std::vector<const StrategyInfo*> chosen;
  for (absl::string_view piece : absl::StrSplit(strategies, ',')) {
    const std::string wanted(piece);
    const auto* it = std::find_if(std::begin(kStrategies), std::end(kStrategies),
                                  [&](const StrategyInfo& s) { return wanted == s.flag; });
    if (it == std::end(kStrategies)) {
      bad_flag(absl::StrCat("--strategies=", strategies, ": '", wanted,
                            "' is not a strategy; accepted are random, pct1, pct2, pct3, pos, surw, portfolio, dpor, "
                            "threads, perturbed, relacy "
                            "(comma-separated)"));
    }
    if (std::find(chosen.begin(), chosen.end(), it) == chosen.end()) chosen.push_back(it);
  }
  return chosen;
}

}  // namespace

[[noreturn]] void bad_flag(const std::string& message) {
  std::cerr << "scoreboard: " << message << "\n" << kUsage;
  std::exit(2);
}

Settings parse_flags(int argc, char** argv) {
  Settings settings;
  std::string strategies = "random,pct1,pct2,pct3,pos,surw,portfolio,dpor,threads,perturbed,relacy";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (arg == "--list") {
      settings.list = true;
      continue;
    }
    const std::size_t equals = arg.find('=');
    if (!arg.starts_with("--") || equals == std::string_view::npos) {
      bad_flag(absl::StrCat("unknown argument '", std::string(arg),
                            "': every flag has the form --name=value (or --list, --help)"));
    }
    const std::string name(arg.substr(2, equals - 2));
    const std::string value(arg.substr(equals + 1));
    if (name == "seeds") {
      settings.seeds = static_cast<int>(parse_number(name, value, 1, 1000));
    } else if (name == "control-seeds") {
      settings.control_seeds = static_cast<int>(parse_number(name, value, 0, 1000));
    } else if (name == "budget") {
      settings.budget = parse_number(name, value, 1, 1'000'000);
    } else if (name == "real-ms") {
      settings.real_ms = parse_number(name, value, 1, 3'600'000);
    } else if (name == "hang-ms") {
      settings.hang_ms = parse_number(name, value, 1, 600'000);
    } else if (name == "seed") {
      settings.first_seed = parse_number(name, value, 0, UINT64_MAX - 1000);
    } else if (name == "output") {
      if (value.empty()) bad_flag("--output= is empty: expected a file path, or - for standard output");
      settings.output = std::string(value);
    } else if (name == "filter") {
      settings.filter = std::string(value);
    } else if (name == "strategies") {
      strategies = std::string(value);
    } else {
      bad_flag(absl::StrCat(
          "unknown flag '--", name,
          "': accepted are --seeds, --control-seeds, --budget, --real-ms, --hang-ms, --seed, --output, --filter, "
          "--strategies, --list, --help"));
    }
  }
  settings.strategies = parse_strategies(strategies);
  return settings;
}

}  // namespace scoreboard
