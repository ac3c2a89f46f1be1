// The exploration strategies (harness/src/model/strategies/): each is selectable by name, its
// tokens name it and replay, POS sees which pending operations conflict, and every strategy finds
// a lost update and passes its fixed version.
#include "model/strategy.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "interleave/explore.h"
#include "interleave/options.h"
#include "interleave/schedule.h"
#include "interleave/thread.h"
#include "interleave_test_support.h"
#include "model/strategies/registry.h"

namespace interleave {
namespace {

using detail::model::Access;
using detail::model::conflicts;
using detail::model::PendingOp;
using detail::model::PickContext;
using detail::model::StrategyEntry;
using test_support::ScopedEnv;

TEST(StrategyRegistry, EveryStrategyHasOneEntryWithAUniqueName) {
  std::set<std::string> names;
  for (const StrategyEntry& e : detail::model::strategy_entries()) {
    EXPECT_TRUE(names.insert(std::string(e.name)).second) << e.name;
    EXPECT_EQ(&detail::model::strategy_entry(e.strategy), &e);
    EXPECT_EQ(to_string(e.strategy), e.name);
    EXPECT_EQ(detail::model::find_strategy(e.name), &e);
  }
  for (Strategy s : {Strategy::random_walk, Strategy::pct, Strategy::pos, Strategy::choices}) {
    EXPECT_EQ(detail::model::strategy_entry(s).strategy, s);
  }
  EXPECT_EQ(detail::model::find_strategy("dfs"), nullptr);
}

TEST(StrategyRegistry, EveryExplorationStrategyIsSelectableByName) {
  for (const StrategyEntry& e : detail::model::strategy_entries()) {
    ScopedEnv env("INTERLEAVE_STRATEGY", std::string(e.name));
    Options o;
    if (e.make == nullptr) {  // choices: a replay token's form, not something to explore with
      EXPECT_THROW(o.apply_environment(), std::invalid_argument) << e.name;
      continue;
    }
    o.apply_environment();
    EXPECT_EQ(o.strategy, e.strategy) << e.name;
  }
}

TEST(StrategyRegistry, APosTokenNamesPosAndParsesBack) {
  ScheduleId id;
  id.strategy = Strategy::pos;
  id.seed = 0xabc;
  id.index = 17;
  id.spurious_wakeup_permille = 50;
  id.max_steps = 1000;
  id.test = TestFingerprint{3, 2, 0x1234abcd};
  const std::string token = id.token();
  EXPECT_EQ(token, "pos.s=abc.i=17.w=50.m=1000.t=3-2-1234abcd");
  EXPECT_EQ(ScheduleId::parse(token), id);
  try {
    (void)ScheduleId::parse("dfs.s=abc.i=17.w=50.m=1000.t=3-2-1234abcd");
    FAIL() << "accepted an unknown strategy";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown strategy 'dfs' (known: random, pct, pos, choices)"),
              std::string::npos)
        << e.what();
  }
}

TEST(PendingOperations, ConflictOnlyOnTheSameObjectWithAWrite) {
  int x = 0;
  int y = 0;
  const PendingOp read_x{"atomic load", &x, Access::read};
  const PendingOp write_x{"atomic store", &x, Access::write};
  const PendingOp rmw_x{"atomic fetch_add", &x, Access::rmw};
  const PendingOp read_y{"atomic load", &y, Access::read};
  const PendingOp write_y{"atomic store", &y, Access::write};
  const PendingOp spawn{"spawn", nullptr, Access::none};
  const PendingOp unknown_x{"futex wait", &x, Access::none};
  EXPECT_FALSE(conflicts(read_x, read_x));
  EXPECT_TRUE(conflicts(read_x, write_x));
  EXPECT_TRUE(conflicts(write_x, read_x));
  EXPECT_TRUE(conflicts(rmw_x, rmw_x));
  EXPECT_FALSE(conflicts(write_x, write_y));
  EXPECT_FALSE(conflicts(read_x, read_y));
  EXPECT_FALSE(conflicts(spawn, spawn));
  EXPECT_TRUE(conflicts(unknown_x, read_x));  // unknown access: conservatively a conflict
}

// POS draws a new priority for a pending operation when the operation that just ran conflicts
// with it, besides the one for the next operation of the fiber that ran. Three fibers, each pick's
// fiber running an operation on its own object or, in the other run, all on one object: with the
// same seeds the picks must differ for some seed (a POS blind to the pending operations would draw
// the same numbers and make the same picks in both runs).
TEST(PendingOperations, PosRedrawsWhatConflictsWithTheOperationThatRan) {
  int x = 0;
  int y = 0;
  int z = 0;
  const std::vector<std::uint32_t> runnable = {0, 1, 2};
  const std::vector<PendingOp> independent = {PendingOp{"atomic store", &x, Access::write},
                                              PendingOp{"atomic store", &y, Access::write},
                                              PendingOp{"atomic store", &z, Access::write}};
  const std::vector<PendingOp> conflicting = {PendingOp{"atomic store", &x, Access::write},
                                              PendingOp{"atomic store", &x, Access::write},
                                              PendingOp{"atomic store", &x, Access::write}};
  const auto picks = [&](std::uint64_t seed, const std::vector<PendingOp>& pending) {
    auto pos = detail::model::make_pos();
    detail::Xoshiro256 rng;
    rng.seed(seed);
    pos->begin(ScheduleId{}, rng);
    for (std::uint32_t f = 0; f < 3; ++f) pos->on_spawn(f, rng);
    std::vector<std::uint32_t> chosen;
    std::uint32_t current = 0;
    for (std::uint64_t step = 0; step < 30; ++step) {
      current = pos->pick(PickContext{runnable, current, true, step, pending}, rng);
      EXPECT_LT(current, 3U);
      chosen.push_back(current);
    }
    return chosen;
  };
  int differing_seeds = 0;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    EXPECT_EQ(picks(seed, independent), picks(seed, independent));  // deterministic
    if (picks(seed, independent) != picks(seed, conflicting)) ++differing_seeds;
  }
  EXPECT_GT(differing_seeds, 0) << "POS ignored whether the pending operations conflict";
}

struct LostUpdate {
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<int> counter{0};
    BasicThread<P> other([&] { counter.store(counter.load() + 1); });
    other.start();
    counter.store(counter.load() + 1);
    other.join();
    INTERLEAVE_ASSERT(counter.load() == 2);
  }
};

struct AtomicIncrement {
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<int> counter{0};
    BasicThread<P> other([&] { counter.fetch_add(1); });
    other.start();
    counter.fetch_add(1);
    other.join();
    INTERLEAVE_ASSERT(counter.load() == 2);
  }
};

class EveryStrategy : public ::testing::TestWithParam<Strategy> {};

INSTANTIATE_TEST_SUITE_P(Strategies, EveryStrategy,
                         ::testing::Values(Strategy::random_walk, Strategy::pct, Strategy::pos),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

TEST_P(EveryStrategy, FindsALostUpdateAndItsTokenNamesTheStrategyAndReplays) {
  Options options;
  options.schedules = 200;
  options.strategy = GetParam();
  options.shrink_runs = 0;
  const Result found = explore(options, LostUpdate{});
  ASSERT_TRUE(found.failed());
  const std::string token = found.reproduce_token();
  EXPECT_EQ(token.substr(0, to_string(GetParam()).size() + 1), std::string(to_string(GetParam())) + ".") << token;
  Options replay;
  replay.replay = token;
  const Result again = explore(replay, LostUpdate{});
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.steps, found.steps);
  EXPECT_EQ(again.failure->message, found.failure->message);
}

TEST_P(EveryStrategy, PassesTheAtomicIncrement) {
  Options options;
  options.schedules = 200;
  options.strategy = GetParam();
  const Result r = explore(options, AtomicIncrement{});
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_EQ(r.schedules_run, 200U);
}

}  // namespace
}  // namespace interleave
