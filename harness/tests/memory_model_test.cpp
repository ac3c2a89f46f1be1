// The weak memory model: litmus tests with the verdict the C++ memory model gives each outcome
// (observable: some schedule shows it; forbidden: no schedule does), coherence, release
// sequences, fences, spurious compare_exchange_weak failures, tokens, shrinking and reports.
//
// Each litmus body asserts that the outcome in question does not happen: an observable outcome
// makes the exploration fail, a forbidden one never does.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "interleave/explore.h"
#include "interleave/model_platform.h"

namespace interleave {
namespace {

using P = ModelPlatform;
using Word = P::Atomic<std::uint32_t>;
constexpr auto relaxed = std::memory_order_relaxed;
constexpr auto acquire = std::memory_order_acquire;
constexpr auto release = std::memory_order_release;
constexpr auto seq_cst = std::memory_order_seq_cst;

// Observable outcomes must show within this many schedules; forbidden ones never in this many.
constexpr std::uint64_t kObservable = 10'000;
constexpr std::uint64_t kForbidden = 20'000;

// The seed the litmus explorations use (the default, unless a test loops over seeds).
std::uint64_t litmus_seed = Options{}.seed;

Options litmus(std::uint64_t schedules, MemoryModel model = MemoryModel::weak) {
  Options o;
  o.seed = litmus_seed;
  o.schedules = schedules;
  o.memory_model = model;
  o.progress = Progress::off;
  o.shrink_runs = 0;
  return o;
}

// Runs `a` and `b` on two fibers (and `c`, `d` when given), joined before `check`.
template <class A, class B>
void two(A a, B b) {
  P::Thread t1(a);
  P::Thread t2(b);
  t1.join();
  t2.join();
}

// --- SB: store buffering -------------------------------------------------------------------------

Result store_buffering(std::memory_order store, std::memory_order load, bool fences, std::uint64_t schedules,
                       MemoryModel model = MemoryModel::weak) {
  return explore(litmus(schedules, model), [&] {
    Word x{0};
    Word y{0};
    std::uint32_t r1 = 9;
    std::uint32_t r2 = 9;
    two(
        [&] {
          x.store(1, store);
          if (fences) P::fence(seq_cst);
          r1 = y.load(load);
        },
        [&] {
          y.store(1, store);
          if (fences) P::fence(seq_cst);
          r2 = x.load(load);
        });
    INTERLEAVE_ASSERT(!(r1 == 0 && r2 == 0), "store buffering: both loads read 0");
  });
}

TEST(Litmus, StoreBufferingRelaxedIsObservable) {
  EXPECT_TRUE(store_buffering(relaxed, relaxed, false, kObservable).failed());
}
TEST(Litmus, StoreBufferingReleaseAcquireIsObservable) {
  EXPECT_TRUE(store_buffering(release, acquire, false, kObservable).failed());
}
TEST(Litmus, StoreBufferingSeqCstIsForbidden) {
  const Result r = store_buffering(seq_cst, seq_cst, false, kForbidden);
  EXPECT_TRUE(r.passed()) << r.report();
}
TEST(Litmus, StoreBufferingWithSeqCstFencesIsForbidden) {
  const Result r = store_buffering(relaxed, relaxed, true, kForbidden);
  EXPECT_TRUE(r.passed()) << r.report();
}
TEST(Litmus, StoreBufferingRelaxedIsForbiddenUnderSc) {
  const Result r = store_buffering(relaxed, relaxed, false, kForbidden, MemoryModel::sc);
  EXPECT_TRUE(r.passed()) << r.report();
}

// --- MP: message passing -------------------------------------------------------------------------

enum class Publication { relaxed_flag, release_acquire, fences };

Result message_passing(Publication how, std::uint64_t schedules, MemoryModel model = MemoryModel::weak,
                       std::uint64_t shrink_runs = 0) {
  Options o = litmus(schedules, model);
  o.shrink_runs = shrink_runs;
  return explore(o, [&] {
    Word data{0};
    Word flag{0};
    two(
        [&] {
          data.store(1, relaxed);
          if (how == Publication::fences) P::fence(release);
          flag.store(1, how == Publication::release_acquire ? release : relaxed);
        },
        [&] {
          if (flag.load(how == Publication::release_acquire ? acquire : relaxed) == 1) {
            if (how == Publication::fences) P::fence(acquire);
            INTERLEAVE_ASSERT(data.load(relaxed) == 1, "message passing: the flag is set but the data is stale");
          }
        });
  });
}

TEST(Litmus, MessagePassingWithARelaxedFlagIsObservable) {
  EXPECT_TRUE(message_passing(Publication::relaxed_flag, kObservable).failed());
}
TEST(Litmus, MessagePassingWithReleaseAcquireIsForbidden) {
  const Result r = message_passing(Publication::release_acquire, kForbidden);
  EXPECT_TRUE(r.passed()) << r.report();
}
TEST(Litmus, MessagePassingWithReleaseAndAcquireFencesIsForbidden) {
  const Result r = message_passing(Publication::fences, kForbidden);
  EXPECT_TRUE(r.passed()) << r.report();
}
TEST(Litmus, MessagePassingWithARelaxedFlagIsForbiddenUnderSc) {
  const Result r = message_passing(Publication::relaxed_flag, kForbidden, MemoryModel::sc);
  EXPECT_TRUE(r.passed()) << r.report();
}

// --- IRIW: independent reads of independent writes -----------------------------------------------

Result iriw(std::memory_order load, std::uint64_t schedules) {
  return explore(litmus(schedules), [&] {
    Word x{0};
    Word y{0};
    std::uint32_t r[4] = {9, 9, 9, 9};
    P::Thread w1([&] { x.store(1, load == seq_cst ? seq_cst : release); });
    P::Thread w2([&] { y.store(1, load == seq_cst ? seq_cst : release); });
    P::Thread r1([&] {
      r[0] = x.load(load);
      r[1] = y.load(load);
    });
    P::Thread r2([&] {
      r[2] = y.load(load);
      r[3] = x.load(load);
    });
    w1.join();
    w2.join();
    r1.join();
    r2.join();
    INTERLEAVE_ASSERT(!(r[0] == 1 && r[1] == 0 && r[2] == 1 && r[3] == 0),
                      "IRIW: the readers saw the two writes in opposite orders");
  });
}

TEST(Litmus, IriwWithAcquireLoadsIsObservable) { EXPECT_TRUE(iriw(acquire, kObservable).failed()); }
TEST(Litmus, IriwWithSeqCstIsForbidden) {
  const Result r = iriw(seq_cst, kForbidden);
  EXPECT_TRUE(r.passed()) << r.report();
}

// --- Coherence -----------------------------------------------------------------------------------

TEST(Litmus, CoherenceReadReadIsNeverViolated) {
  const Result r = explore(litmus(kForbidden), [] {
    Word x{0};
    std::uint32_t r1 = 9;
    std::uint32_t r2 = 9;
    two(
        [&] {
          x.store(1, relaxed);
          x.store(2, relaxed);
        },
        [&] {
          r1 = x.load(relaxed);
          r2 = x.load(relaxed);
        });
    INTERLEAVE_ASSERT(r2 >= r1, "CoRR: a later load read an older store");
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

TEST(Litmus, CoherenceWriteReadIsNeverViolated) {
  const Result r = explore(litmus(kForbidden), [] {
    Word x{0};
    std::uint32_t seen = 9;
    two([&] { x.store(2, relaxed); },
        [&] {
          x.store(1, relaxed);
          seen = x.load(relaxed);
        });
    INTERLEAVE_ASSERT(seen != 0, "CoWR: a load read a store older than its own fiber's store");
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

TEST(Litmus, CoherenceReadWriteIsNeverViolated) {
  const Result r = explore(litmus(kForbidden), [] {
    Word x{0};
    std::uint32_t seen = 9;
    two([&] { x.store(2, relaxed); },
        [&] {
          seen = x.load(relaxed);
          x.store(1, relaxed);
        });
    // Having read 2, the store of 1 comes after it in modification order: the final value is 1.
    INTERLEAVE_ASSERT(!(seen == 2 && x.load(relaxed) == 2), "CoRW: a store went before a store its fiber read");
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

TEST(Litmus, CoherenceWriteWriteIsNeverViolated) {
  const Result r = explore(litmus(kForbidden), [] {
    Word x{0};
    P::Thread t([&] {
      x.store(1, relaxed);
      x.store(2, relaxed);
    });
    t.join();
    INTERLEAVE_ASSERT(x.load(relaxed) == 2, "CoWW: the final value is not the last store");
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

TEST(Litmus, TwoPlusTwoWritesWithSeqCstIsForbidden) {
  const Result r = explore(litmus(kForbidden), [] {
    Word x{0};
    Word y{0};
    two(
        [&] {
          x.store(1, seq_cst);
          y.store(2, seq_cst);
        },
        [&] {
          y.store(1, seq_cst);
          x.store(2, seq_cst);
        });
    INTERLEAVE_ASSERT(!(x.load() == 1 && y.load() == 1), "2+2W: each fiber's first store came last");
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

// --- Release sequences ---------------------------------------------------------------------------

// Fiber 1 publishes data with a release store of 1; fiber 2 then changes the flag to 2, by an RMW
// (which continues the release sequence) or by a plain store (which ends it); fiber 3 acquires 2.
Result release_sequence(bool continued_by_rmw, std::uint64_t schedules) {
  return explore(litmus(schedules), [&] {
    Word data{0};
    Word flag{0};
    P::Thread publisher([&] {
      data.store(1, relaxed);
      flag.store(1, release);
    });
    P::Thread bumper([&] {
      if (continued_by_rmw) {
        std::uint32_t one = 1;
        (void)flag.compare_exchange_strong(one, 2, relaxed, relaxed);
      } else if (flag.load(relaxed) == 1) {
        flag.store(2, relaxed);
      }
    });
    P::Thread reader([&] {
      if (flag.load(acquire) == 2) {
        INTERLEAVE_ASSERT(data.load(relaxed) == 1, "the flag reads 2 but the data is stale");
      }
    });
    publisher.join();
    bumper.join();
    reader.join();
  });
}

TEST(Litmus, ReleaseSequenceContinuedByAnRmwSynchronizes) {
  const Result r = release_sequence(true, kForbidden);
  EXPECT_TRUE(r.passed()) << r.report();
}
TEST(Litmus, ReleaseSequenceBrokenByAPlainStoreDoesNotSynchronize) {
  EXPECT_TRUE(release_sequence(false, kObservable).failed());
}

// Every observable outcome shows within kObservable schedules under each of 20 seeds.
TEST(Litmus, ObservableOutcomesShowUnderTwentySeeds) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    litmus_seed = seed;
    EXPECT_TRUE(store_buffering(relaxed, relaxed, false, kObservable).failed()) << "SB, seed " << seed;
    EXPECT_TRUE(store_buffering(release, acquire, false, kObservable).failed()) << "SB rel/acq, seed " << seed;
    EXPECT_TRUE(message_passing(Publication::relaxed_flag, kObservable).failed()) << "MP, seed " << seed;
    EXPECT_TRUE(iriw(acquire, kObservable).failed()) << "IRIW, seed " << seed;
    EXPECT_TRUE(release_sequence(false, kObservable).failed()) << "release sequence, seed " << seed;
  }
  litmus_seed = Options{}.seed;
}

// --- compare_exchange_weak -----------------------------------------------------------------------

TEST(CompareExchangeWeak, FailsSpuriouslyUnderTheWeakModel) {
  const Result r = explore(litmus(kObservable), [] {
    Word x{0};
    std::uint32_t expected = 0;
    INTERLEAVE_ASSERT(x.compare_exchange_weak(expected, 1), "compare_exchange_weak failed spuriously");
    INTERLEAVE_ASSERT(expected == 0);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_NE(r.failure->message.find("failed spuriously"), std::string::npos) << r.report();
}

TEST(CompareExchangeWeak, NeverFailsSpuriouslyUnderSc) {
  const Result r = explore(litmus(kObservable, MemoryModel::sc), [] {
    Word x{0};
    std::uint32_t expected = 0;
    INTERLEAVE_ASSERT(x.compare_exchange_weak(expected, 1), "compare_exchange_weak failed spuriously");
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

TEST(CompareExchangeWeak, ARetryLoopCountsEveryIncrement) {
  const Result r = explore(litmus(2'000), [] {
    Word count{0};
    const auto add = [&] {
      for (int i = 0; i < 3; ++i) {
        std::uint32_t seen = count.load(relaxed);
        while (!count.compare_exchange_weak(seen, seen + 1, relaxed, relaxed)) {
        }
      }
    };
    two(add, add);
    INTERLEAVE_ASSERT(count.load() == 6U);
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

// --- Tokens, shrinking, reports --------------------------------------------------------------------

TEST(WeakMemoryModel, AFailingTokenCarriesTheModelAndReplaysTheStaleRead) {
  const Result found = message_passing(Publication::relaxed_flag, kObservable);
  ASSERT_TRUE(found.failed());
  const std::string token = found.schedule.token();
  EXPECT_NE(token.find(".v=weak-7-50."), std::string::npos) << token;
  Options o = litmus(1);
  o.replay = token;
  o.memory_model = MemoryModel::sc;  // the token's own settings win
  const Result again = explore(o, [] {
    Word data{0};
    Word flag{0};
    two(
        [&] {
          data.store(1, relaxed);
          flag.store(1, relaxed);
        },
        [&] {
          if (flag.load(relaxed) == 1) {
            INTERLEAVE_ASSERT(data.load(relaxed) == 1, "message passing: the flag is set but the data is stale");
          }
        });
  });
  ASSERT_TRUE(again.failed()) << again.report();
  EXPECT_EQ(again.failure->kind, found.failure->kind);
  // The same stale read (the two bodies are on different source lines).
  ASSERT_EQ(again.stale_reads.size(), found.stale_reads.size());
  for (std::size_t i = 0; i < found.stale_reads.size(); ++i) {
    const std::string& a = again.stale_reads[i];
    const std::string& b = found.stale_reads[i];
    EXPECT_EQ(a.substr(a.find(" (fiber")), b.substr(b.find(" (fiber")));
  }
}

TEST(WeakMemoryModel, ShrinkingKeepsOnlyTheStaleReadTheBugNeeds) {
  const Result r = message_passing(Publication::relaxed_flag, kObservable, MemoryModel::weak, 1000);
  ASSERT_TRUE(r.failed());
  ASSERT_TRUE(r.shrunk.has_value()) << r.report();
  // The data load must read the initial 0 while the flag load reads the newest store: one stale
  // read, no other departure left but the preemptions that order the fibers.
  EXPECT_EQ(r.stale_reads.size(), 1U) << r.report();
  EXPECT_NE(r.shrunk->token().find(".v=weak-"), std::string::npos);
}

TEST(WeakMemoryModel, TheReportNamesEachStaleRead) {
  const Result r = message_passing(Publication::relaxed_flag, kObservable, MemoryModel::weak, 1000);
  ASSERT_TRUE(r.failed());
  const std::string report = r.report();
  EXPECT_NE(report.find("found under the weak memory model"), std::string::npos) << report;
  EXPECT_NE(report.find("atomic load at "), std::string::npos) << report;
  EXPECT_NE(report.find("memory_model_test.cpp:"), std::string::npos) << report;
  EXPECT_NE(report.find("read the object's initial value, not the latest (step #"), std::string::npos) << report;
  EXPECT_NE(report.find("memory_model=weak"), std::string::npos) << report;
}

TEST(WeakMemoryModel, OldTokensWithoutTheModelFieldRunSequentiallyConsistent) {
  ScheduleId id = ScheduleId::parse("random.s=1.i=2.w=50.m=100.t=1-1-00000000");
  EXPECT_EQ(id.memory_model, MemoryModel::sc);
  id = ScheduleId::parse("random.s=1.i=2.w=50.m=100.v=weak-7-50.t=1-1-00000000");
  EXPECT_EQ(id.memory_model, MemoryModel::weak);
  EXPECT_EQ(id.store_history, 7);
  EXPECT_EQ(id.spurious_cas_permille, 50);
  EXPECT_THROW(ScheduleId::parse("random.s=1.i=2.w=50.m=100.v=strong-7-50.t=1-1-00000000"), std::invalid_argument);
  EXPECT_THROW(ScheduleId::parse("random.s=1.i=2.w=50.m=100.v=weak-0-50.t=1-1-00000000"), std::invalid_argument);
}

TEST(WeakMemoryModel, AStoreHistoryOfOneStillReadsTheStoreBeforeTheNewest) {
  Options o = litmus(kObservable);
  o.store_history = 1;
  const Result r = explore(o, [] {
    Word x{0};
    std::uint32_t seen = 9;
    two([&] { x.store(1, relaxed); }, [&] { seen = x.load(relaxed); });
    INTERLEAVE_ASSERT(seen == 1 || seen == 0);
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

}  // namespace
}  // namespace interleave
