// The list of strategies: the one place a new strategy is named.
#include "model/strategies/registry.h"

#include <algorithm>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

namespace interleave::detail::model {
namespace {

constexpr StrategyEntry kEntries[] = {
    {Strategy::random_walk, "random", "random walk: every point picks uniformly among the runnable fibers", true,
     make_random_walk, true},
    {Strategy::pct, "pct", "PCT: priorities with depth-1 change points (Burckhardt et al., ASPLOS 2010)", false,
     make_pct, true},
    {Strategy::pos, "pos", "POS: partial order sampling (Yuan et al., CAV 2018)", true, make_pos, true},
    {Strategy::surw, "surw",
     "SURW: each fiber weighed by the choice points it has left, estimated from earlier schedules (Zhao et al., "
     "ASPLOS 2025)",
     false, make_surw, true},
    {Strategy::portfolio, "portfolio", "each schedule made by one of surw, pos and pct, drawn per schedule", false,
     nullptr, true},
    {Strategy::dpor, "dpor",
     "DPOR: every interleaving up to equivalence, with sleep sets (Flanagan and Godefroid, POPL 2005)", false,
     make_dpor, true},
    {Strategy::choices, "choices", "a schedule listed decision by decision (replay tokens only)", false, nullptr,
     false},
};

}  // namespace

std::span<const StrategyEntry> strategy_entries() noexcept { return kEntries; }

const StrategyEntry* find_strategy(std::string_view name) noexcept {
  const auto* it =
      std::find_if(std::begin(kEntries), std::end(kEntries), [name](const StrategyEntry& e) { return e.name == name; });
  return it == std::end(kEntries) ? nullptr : it;
}

const StrategyEntry& strategy_entry(Strategy strategy) noexcept {
  for (const StrategyEntry& e : kEntries) {
    if (e.strategy == strategy) return e;
  }
  std::abort();  // every Strategy value has an entry
}

std::string_view explorable_strategy_names() {
  static const std::string names = [] {
    std::string out;
    std::size_t left = 0;
    for (const StrategyEntry& e : kEntries) left += e.explorable ? 1 : 0;
    for (const StrategyEntry& e : kEntries) {
      if (!e.explorable) continue;
      // Appended piece by piece: g++ 12 at -O2 warns (-Wrestrict, a false positive) on
      // "'" + std::string(...).
      out += '\'';
      out += e.name;
      out += '\'';
      --left;
      out += left > 1 ? ", " : left == 1 ? " or " : "";
    }
    return out;
  }();
  return names;
}

}  // namespace interleave::detail::model
