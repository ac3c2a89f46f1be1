// Internal to the harness library: every exploration strategy by name, for options, tokens and
// the Chooser. A new strategy is one file under strategies/ and one entry in registry.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "interleave/options.h"
#include "model/strategy.h"

namespace interleave::detail::model {

struct StrategyEntry {
  Strategy strategy;
  std::string_view name;         // INTERLEAVE_STRATEGY's value and the token's first field
  std::string_view description;  // for error messages and docs
  // Whether a token names its schedules by (seed, index) alone (random.s=...); false for PCT,
  // whose tokens carry its parameters, and for choices.
  bool plain_token;
  std::unique_ptr<SchedulingStrategy> (*make)();  // nullptr: the Chooser never runs it (portfolio, choices)
  bool explorable;  // whether Options::strategy may name it (not choices: a replay token's form only)
};

// Every strategy, choices last.
std::span<const StrategyEntry> strategy_entries() noexcept;
// nullptr when no strategy has that name.
const StrategyEntry* find_strategy(std::string_view name) noexcept;
const StrategyEntry& strategy_entry(Strategy strategy) noexcept;
// "'random', 'pct' or 'pos'": the names INTERLEAVE_STRATEGY accepts, for error messages.
std::string_view explorable_strategy_names();

// The portfolio's member for schedule `index` of an exploration with `seed` (portfolio.cpp): a
// strategy that makes schedules (never portfolio or choices) and, for PCT, its depth.
struct PortfolioMember {
  Strategy strategy;
  int pct_depth;
};
PortfolioMember portfolio_member(std::uint64_t seed, std::uint64_t index) noexcept;

// SURW's estimates name at most this many fibers (a token lists them all): fibers numbered past it
// in a schedule are estimated at 1, as a fiber no earlier schedule had.
inline constexpr std::size_t kMaxSurwEstimates = 65536;

std::unique_ptr<SchedulingStrategy> make_random_walk();
std::unique_ptr<SchedulingStrategy> make_pct();
std::unique_ptr<SchedulingStrategy> make_pos();
std::unique_ptr<SchedulingStrategy> make_surw();
std::unique_ptr<SchedulingStrategy> make_dpor();

}  // namespace interleave::detail::model
