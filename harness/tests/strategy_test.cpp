// The exploration strategies (harness/src/model/strategies/): each is selectable by name, its
// tokens name it and replay, POS sees which pending operations conflict, and every strategy finds
// a lost update and passes its fixed version; PCT's change points fall on choice points, and the
// portfolio's schedules are its members' own.
#include "model/strategy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
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
  for (Strategy s :
       {Strategy::random_walk, Strategy::pct, Strategy::pos, Strategy::surw, Strategy::portfolio, Strategy::choices}) {
    EXPECT_EQ(detail::model::strategy_entry(s).strategy, s);
  }
  EXPECT_EQ(detail::model::find_strategy("dfs"), nullptr);
}

TEST(StrategyRegistry, EveryExplorationStrategyIsSelectableByName) {
  for (const StrategyEntry& e : detail::model::strategy_entries()) {
    ScopedEnv env("INTERLEAVE_STRATEGY", std::string(e.name));
    Options o;
    if (!e.explorable) {  // choices: a replay token's form, not something to explore with
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
    EXPECT_NE(std::string(e.what()).find("unknown strategy 'dfs' (known: random, pct, pos, surw, choices)"),
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
      current = pos->pick(PickContext{runnable, current, true, step, step + 1, pending}, rng);
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
                         ::testing::Values(Strategy::random_walk, Strategy::pct, Strategy::pos, Strategy::surw,
                                           Strategy::portfolio),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

TEST_P(EveryStrategy, FindsALostUpdateAndItsTokenNamesTheStrategyAndReplays) {
  Options options;
  options.schedules = 200;
  options.strategy = GetParam();
  options.shrink_runs = 0;
  const Result found = explore(options, LostUpdate{});
  ASSERT_TRUE(found.failed());
  const std::string token = found.reproduce_token();
  // A portfolio's schedule is one member's: the token names that member.
  const Strategy named = GetParam() == Strategy::portfolio ? found.schedule.strategy : GetParam();
  EXPECT_NE(named, Strategy::portfolio);
  EXPECT_EQ(token.substr(0, to_string(named).size() + 1), std::string(to_string(named)) + ".") << token;
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

// Steps that no other fiber's operation can be ordered against are events, not choices
// (schedule_inline.h): a thread that only yields and reads the clock, started and joined by the
// body, leaves every strategy nothing to choose. Were the start, the join, the yields or the clock
// reads choice points, the join alone would be one in every schedule (both fibers runnable).
struct OnlyEvents {
  template <Platform P>
  void operator()() const {
    BasicThread<P> other([] {
      P::yield();
      static_cast<void>(P::now());
      P::relax();
    });
    other.start();
    static_cast<void>(P::now());
    other.join();
  }
};

Options fifty_schedules(Strategy strategy) {
  Options options;
  options.schedules = 50;
  options.strategy = strategy;
  return options;
}

TEST_P(EveryStrategy, ThreadStartJoinYieldAndClockReadAreNoChoicePoints) {
  const Result r = explore(fifty_schedules(GetParam()), OnlyEvents{});
  ASSERT_TRUE(r.passed()) << r;
  EXPECT_EQ(r.total_choice_points, 0U) << "in " << r.schedules_run << " schedules of " << r.total_steps << " steps";
  EXPECT_GE(r.total_steps, 50U * 6);  // the events are still steps: counted, bounded, traced
}

// The same thread with an atomic store: that is a choice point whenever both fibers can run.
struct EventsAndAStore {
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<int> value{0};
    BasicThread<P> other([&] {
      P::yield();
      value.store(1);
    });
    other.start();
    value.store(2);
    other.join();
  }
};

TEST_P(EveryStrategy, AnAtomicOperationBesideARunnableFiberIsAChoicePoint) {
  const Result r = explore(fifty_schedules(GetParam()), EventsAndAStore{});
  ASSERT_TRUE(r.passed()) << r;
  // The body's store always has the other fiber runnable beside it (it cannot have finished
  // before its first point): at least one choice per schedule.
  EXPECT_GE(r.total_choice_points, r.schedules_run);
}

// A loop that polls a variable the model does not see (here a std::atomic outside the platform,
// as a plain variable would be under std mode) and yields: a yield right after a yield is a
// scheduling point, so the setter runs and the loop ends. Were every yield an event, the poller
// would never let the setter run and each schedule would end at the step bound.
struct PollWithYields {
  template <Platform P>
  void operator()() const {
    std::atomic<bool> flag{false};
    BasicThread<P> setter([&] { flag.store(true, std::memory_order_relaxed); });
    setter.start();
    while (!flag.load(std::memory_order_relaxed)) P::yield();
    setter.join();
  }
};

TEST_P(EveryStrategy, AYieldLoopOnAVariableTheModelDoesNotSeeStillLetsTheOthersRun) {
  Options options = fifty_schedules(GetParam());
  options.max_steps = 2'000;
  const Result r = explore(options, PollWithYields{});
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_EQ(r.schedules_run, 50U);
}

// A lost update behind a long stretch where only the body runs: 300 loads before the second
// fiber exists. PCT d=2 needs its one change point to fall between a fiber's load and store;
// counted over choice points (a handful here) it does so often, where a change point drawn over
// every step (300+) fell in that stretch, changed nothing, and left a d=1 schedule that never
// interleaves the two increments.
struct LostUpdateAfterAPrelude {
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<int> counter{0};
    for (int i = 0; i < 300; ++i) static_cast<void>(counter.load());
    BasicThread<P> other([&] { counter.store(counter.load() + 1); });
    other.start();
    counter.store(counter.load() + 1);
    other.join();
    INTERLEAVE_ASSERT(counter.load() == 2);
  }
};

TEST(Pct, ChangePointsFallOnChoicePoints) {
  int found = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    Options options;
    options.strategy = Strategy::pct;
    options.pct_depth = 2;
    options.seed = seed;
    options.schedules = 20;
    options.shrink_runs = 0;
    options.spurious_wakeup_permille = 0;
    const Result r = explore(options, LostUpdateAfterAPrelude{});
    if (!r.failed()) continue;
    ++found;
    // The token's count is of choice points, far below the 300 steps of the prelude.
    EXPECT_EQ(r.schedule.strategy, Strategy::pct);
    EXPECT_LT(r.schedule.pct_choice_points, 50U) << r.reproduce_token();
    EXPECT_NE(r.reproduce_token().find(".c="), std::string::npos) << r.reproduce_token();
  }
  // With k choice points (about 6) each schedule finds it with probability about 1/4: 20
  // schedules miss it for a seed about once in 300. Over every step the chance was about 1/100.
  EXPECT_GE(found, 9);
}

// A spin lock whose loop never yields (as plain std::atomic code is written): under PCT the
// holder can drop below the spinner at a change point, and without PCT's fairness rule the spinner
// then spins until the step bound and the run reports a livelock no fair scheduler shows.
struct SpinLockWithoutYield {
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<bool> locked{false};
    typename P::template Atomic<int> counter{0};
    const auto add = [&] {
      bool expected = false;
      while (!locked.compare_exchange_strong(expected, true)) expected = false;
      counter.store(counter.load() + 1);
      locked.store(false);
    };
    BasicThread<P> other(add);
    other.start();
    add();
    other.join();
    INTERLEAVE_ASSERT(counter.load() == 2);
  }
};

TEST(Pct, ASpinLoopThatDoesNotYieldIsNoLivelock) {
  for (int depth : {2, 3}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      Options options;
      options.strategy = Strategy::pct;
      options.pct_depth = depth;
      options.seed = seed;
      options.schedules = 300;
      options.max_steps = 20'000;
      const Result r = explore(options, SpinLockWithoutYield{});
      EXPECT_TRUE(r.passed()) << "depth " << depth << " seed " << seed << "\n" << r;
    }
  }
}

// One load in a second fiber among kIncrements increments by the body: the value it reads is how
// many increments ran before it, which names the interleaving of the two fibers' steps.
struct OneLoadAmongIncrements {
  static constexpr int kIncrements = 8;
  std::vector<int>* seen;
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<int> counter{0};
    int value = -1;
    BasicThread<P> other([&] { value = counter.load(); });
    other.start();
    for (int i = 0; i < kIncrements; ++i) counter.fetch_add(1);
    other.join();
    ++seen->at(static_cast<std::size_t>(value));
  }
};

std::vector<int> values_read(Strategy strategy, std::uint64_t schedules) {
  std::vector<int> seen(OneLoadAmongIncrements::kIncrements + 1, 0);
  Options options;
  options.strategy = strategy;
  options.seed = 0x5eed;
  options.schedules = schedules;
  options.jobs = 1;
  options.spurious_wakeup_permille = 0;
  const Result r = explore(options, OneLoadAmongIncrements{&seen});
  EXPECT_TRUE(r.passed()) << r;
  return seen;
}

// Every interleaving of the two fibers' picks is as likely as any other under SURW, which weighs
// each fiber by the picks it has left. The second fiber is picked twice (its start and its load), so
// of the 45 interleavings of its 2 picks among the body's 8, those where its load reads v number
// v + 1: the value v is read in a share (v + 1) / 45 of the schedules. A random walk runs the short
// fiber early instead: it reads 0 or 1 in half of them and 8 almost never.
TEST(Surw, SamplesTheInterleavingsOfTwoFibersUniformly) {
  constexpr std::uint64_t kSchedules = 3000;
  const std::vector<int> surw = values_read(Strategy::surw, kSchedules);
  const std::vector<int> random = values_read(Strategy::random_walk, kSchedules);
  const auto text = [](const std::vector<int>& v) {
    std::string out;
    for (int n : v) out += std::to_string(n) + " ";
    return out;
  };
  SCOPED_TRACE("surw: " + text(surw) + "\nrandom walk: " + text(random));
  const auto off_uniform = [&](const std::vector<int>& seen) {
    int off = 0;  // values read more than 30% away from their share of uniform interleavings
    for (std::size_t v = 0; v < seen.size(); ++v) {
      const double expected = static_cast<double>(kSchedules) * static_cast<double>(v + 1) / 45.0;
      if (std::abs(seen[v] - expected) > 0.3 * expected) ++off;
    }
    return off;
  };
  EXPECT_EQ(off_uniform(surw), 0);
  EXPECT_GE(off_uniform(random), 5);
}

TEST(Surw, TheFirstScheduleHasNoEstimatesAndLaterOnesCarryThemInTheToken) {
  Options options;
  options.strategy = Strategy::surw;
  options.schedules = 1;
  options.spurious_wakeup_permille = 0;
  std::vector<int> seen(OneLoadAmongIncrements::kIncrements + 1, 0);
  const Result first = explore(options, OneLoadAmongIncrements{&seen});
  EXPECT_TRUE(first.schedule.surw_estimates.empty());
  EXPECT_EQ(first.schedule.token().substr(0, 8), "surw.e=-");
  options.schedules = 40;
  const Result later = explore(options, OneLoadAmongIncrements{&seen});
  ASSERT_EQ(later.schedule.index, 39U);
  // Fiber 0, the body, is picked at most at its increments and its start of the other fiber.
  ASSERT_GE(later.schedule.surw_estimates.size(), 2U) << later.schedule.token();
  EXPECT_GE(later.schedule.surw_estimates[0], 1U);
  EXPECT_LE(later.schedule.surw_estimates[0], OneLoadAmongIncrements::kIncrements + 1U);
  std::string listed;
  for (std::uint64_t e : later.schedule.surw_estimates) listed += (listed.empty() ? "" : "_") + std::to_string(e);
  EXPECT_EQ(later.schedule.token().substr(0, 8 + listed.size()), "surw.e=" + listed + ".");
}

// The estimates come from the schedules of earlier batches only, so the job count does not change
// which schedules an exploration makes.
TEST(Surw, TheSameSchedulesForEveryJobCount) {
  std::vector<std::string> tokens;
  for (unsigned jobs : {1U, 2U, 3U}) {
    Options options;
    options.strategy = Strategy::surw;
    options.schedules = 300;
    options.jobs = jobs;
    options.shrink_runs = 0;
    const Result r = explore(options, LostUpdateAfterAPrelude{});
    tokens.push_back(r.failed() ? r.schedule.token() : "passed");
  }
  EXPECT_EQ(tokens[0], tokens[1]);
  EXPECT_EQ(tokens[0], tokens[2]);
}

// SURW's estimate list: as many entries as kMaxSurwEstimates parse back, one more is refused.
TEST(Surw, TheLongestEstimateListParsesAndALongerOneIsRefused) {
  ScheduleId id;
  id.strategy = Strategy::surw;
  id.test = TestFingerprint{1, 1, 0};
  id.surw_estimates.assign(detail::model::kMaxSurwEstimates, 7);
  EXPECT_EQ(ScheduleId::parse(id.token()), id);
  id.surw_estimates.push_back(7);
  try {
    (void)ScheduleId::parse(id.token());
    ADD_FAILURE() << "a list of " << id.surw_estimates.size() << " estimates was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("the estimate list has more than 65536 entries"), std::string::npos)
        << std::string(e.what()).substr(0, 300);
  }
}

TEST(Portfolio, EveryMemberGetsAShareAndTheDrawDependsOnTheSeed) {
  std::map<std::pair<Strategy, int>, int> shares;
  int differing = 0;
  for (std::uint64_t index = 0; index < 4000; ++index) {
    const detail::model::PortfolioMember m = detail::model::portfolio_member(0x1eaf5eed, index);
    EXPECT_NE(m.strategy, Strategy::portfolio);
    EXPECT_NE(m.strategy, Strategy::choices);
    ++shares[{m.strategy, m.strategy == Strategy::pct ? m.pct_depth : 0}];
    const detail::model::PortfolioMember other = detail::model::portfolio_member(7, index);
    if (other.strategy != m.strategy || other.pct_depth != m.pct_depth) ++differing;
  }
  EXPECT_TRUE(shares.contains({Strategy::surw, 0}));
  EXPECT_TRUE(shares.contains({Strategy::pos, 0}));
  EXPECT_TRUE(shares.contains({Strategy::pct, 3}));
  for (const auto& [member, count] : shares) {
    EXPECT_GT(count, 4000 / static_cast<int>(shares.size()) / 2) << to_string(member.first);
  }
  EXPECT_GT(differing, 1000);  // another seed, another rotation
}

TEST(Portfolio, ATokenIsAMembersAndReplaysWithoutThePortfolio) {
  Options options;
  options.strategy = Strategy::portfolio;
  options.schedules = 200;
  options.shrink_runs = 0;
  std::set<Strategy> members;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    options.seed = seed;
    const Result found = explore(options, LostUpdate{});
    ASSERT_TRUE(found.failed()) << "seed " << seed;
    members.insert(found.schedule.strategy);
    const ScheduleId parsed = ScheduleId::parse(found.reproduce_token());
    EXPECT_EQ(parsed.strategy, found.schedule.strategy);
    const detail::model::PortfolioMember m = detail::model::portfolio_member(seed, found.schedule.index);
    EXPECT_EQ(parsed.strategy, m.strategy);
    Options replay;  // the default strategy: the token alone names the schedule
    replay.replay = found.reproduce_token();
    const Result again = explore(replay, LostUpdate{});
    ASSERT_TRUE(again.failed());
    EXPECT_EQ(again.steps, found.steps);
  }
  EXPECT_GE(members.size(), 2U) << "the failing schedules all came from one member";
}

TEST(Portfolio, IsNoTokenOfItsOwn) {
  try {
    ScheduleId::parse("portfolio.s=1.i=0.w=0.m=1.t=1-1-00000000");
    FAIL() << "a portfolio token was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'portfolio' names no schedule"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace interleave
