// The portfolio: each schedule index of an exploration runs one strategy, drawn from (seed, index).
// No single strategy is best on every bug (docs/scoreboard.md): SURW is quick on shallow bugs and
// reaches the interleavings where a short fiber runs late (which a plain random walk starves), PCT
// finds bugs that need one fiber held back for long, POS races between a few operations among many
// independent ones. Running each on its share of the indices finds every bug within a small factor
// of its best strategy, where picking one strategy misses some bugs outright.
//
// The member is drawn through a hash of (seed, index), not by index modulo the member count: with
// a fixed rotation, a test whose bug only one member finds would depend on how its failing index
// falls, and sharded or parallel explorations would give the members unequal shares. The
// schedule's ScheduleId is the member's own (its token names the member and replays without the
// portfolio): a portfolio adds no decision of its own to a schedule.
#include <cstdint>
#include <iterator>

#include "interleave/detail/random.h"
#include "model/strategies/registry.h"

namespace interleave::detail::model {
namespace {

// The members and their shares, chosen with bench/scoreboard (docs/scoreboard.md, docs/harness.md):
// SURW on half the schedules (its deep finds, such as strict alternation for many rounds, need
// hundreds of its schedules), POS and PCT d=3 on a quarter each. SURW's estimates come from every
// schedule before the batch, whichever member made it.
constexpr PortfolioMember kMembers[] = {
    {Strategy::surw, 3},
    {Strategy::surw, 3},
    {Strategy::pos, 3},
    {Strategy::pct, 3},
};

}  // namespace

PortfolioMember portfolio_member(std::uint64_t seed, std::uint64_t index) noexcept {
  std::uint64_t state = seed ^ (index * 0x9e3779b97f4a7c15ULL);
  return kMembers[Xoshiro256::splitmix(state) % std::size(kMembers)];
}

}  // namespace interleave::detail::model
