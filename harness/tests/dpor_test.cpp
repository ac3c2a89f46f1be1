// Strategy::dpor, the bounded-exhaustive search: on small bodies the number of interleavings it
// explores equals a count by hand of the equivalence classes (orders of the conflicting
// operations), no outcome a long random walk observes is missing from its search (programs with a
// Mutex), it finds the bugs those classes hold with a token that replays them, it ends with
// a proof only when the search is complete, and it refuses what it cannot explore.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/options.h"
#include "interleave/schedule.h"
#include "interleave/semaphore.h"
#include "interleave/shared.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

Options dpor(std::uint64_t limit = 1000) {
  Options o;
  o.strategy = Strategy::dpor;
  o.schedules = limit;
  o.memory_model = MemoryModel::sc;
  return o;
}

// Explores `body` to the end and returns how many equivalence classes it found.
template <class Body>
std::uint64_t classes(Body body) {
  const Result r = explore(dpor(), body);
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_TRUE(r.exhausted) << r;
  EXPECT_NE(r.report().find("explored all"), std::string::npos) << r;
  return r.equivalence_classes;
}

// Two threads, two steps each, on objects of their own: nothing to reorder, one class.
TEST(DporHandCounts, TwoThreadsWithTwoIndependentStepsEachMakeOneClass) {
  EXPECT_EQ(classes([]<Platform P>() {
              typename P::template Atomic<int> a{0};
              typename P::template Atomic<int> b{0};
              BasicThread<P> t1([&] {
                a.store(1);
                a.store(2);
              });
              BasicThread<P> t2([&] {
                b.store(1);
                b.store(2);
              });
              t1.start();
              t2.start();
              t1.join();
              t2.join();
            }),
            1U);
}

// One conflicting step each: the two orders.
TEST(DporHandCounts, TwoThreadsWithOneConflictingStepEachMakeTwoClasses) {
  EXPECT_EQ(classes([]<Platform P>() {
              typename P::template Atomic<int> x{0};
              BasicThread<P> t1([&] { x.store(1); });
              BasicThread<P> t2([&] { x.store(2); });
              t1.start();
              t2.start();
              t1.join();
              t2.join();
            }),
            2U);
}

// Load then store in each thread: of the 6 interleavings, the two that differ only in the order
// of the two loads are equivalent twice over: 4 classes.
TEST(DporHandCounts, ALostUpdateHasFourClasses) {
  EXPECT_EQ(classes([]<Platform P>() {
              typename P::template Atomic<int> x{0};
              BasicThread<P> t1([&] { x.store(x.load() + 1); });
              BasicThread<P> t2([&] { x.store(x.load() + 1); });
              t1.start();
              t2.start();
              t1.join();
              t2.join();
            }),
            4U);
}

// Writer: data, then flag. Reader: flag, then data. The flag read comes before or after the flag
// write; only when before can the data read come before the data write: 3 classes.
TEST(DporHandCounts, MessagePassingHasThreeClasses) {
  EXPECT_EQ(classes([]<Platform P>() {
              typename P::template Atomic<int> data{0};
              typename P::template Atomic<int> flag{0};
              BasicThread<P> writer([&] {
                data.store(1);
                flag.store(1);
              });
              BasicThread<P> reader([&] {
                (void)flag.load();
                (void)data.load();
              });
              writer.start();
              reader.start();
              writer.join();
              reader.join();
            }),
            3U);
}

// Three threads writing one variable once each: 3! orders.
TEST(DporHandCounts, ThreeWritersHaveSixClasses) {
  EXPECT_EQ(classes([]<Platform P>() {
              typename P::template Atomic<int> x{0};
              BasicThread<P> t1([&] { x.store(1); });
              BasicThread<P> t2([&] { x.store(2); });
              BasicThread<P> t3([&] { x.store(3); });
              t1.start();
              t2.start();
              t3.start();
              t1.join();
              t2.join();
              t3.join();
            }),
            6U);
}

// Two read-modify-writes conflict: 2 classes, and every one keeps both increments.
TEST(DporHandCounts, TwoAtomicIncrementsHaveTwoClassesAndPass) {
  EXPECT_EQ(classes([]<Platform P>() {
              typename P::template Atomic<int> x{0};
              BasicThread<P> t1([&] { x.fetch_add(1); });
              BasicThread<P> t2([&] { x.fetch_add(1); });
              t1.start();
              t2.start();
              t1.join();
              t2.join();
              INTERLEAVE_ASSERT(x.load() == 2);
            }),
            2U);
}

// The body's objects may lie at other addresses in each execution (the heap, or a sanitizer's
// stack, places them anew): the search names them by the order it meets them, so the count stays
// the hand count.
TEST(DporHandCounts, ObjectsAtNewAddressesInEachExecutionCountTheSame) {
  EXPECT_EQ(classes([]<Platform P>() {
              // Earlier executions' objects stay allocated, so each execution's lies elsewhere.
              static std::deque<typename P::template Atomic<int>> every;
              typename P::template Atomic<int>& x = every.emplace_back(0);
              BasicThread<P> t1([&] { x.store(1); });
              BasicThread<P> t2([&] { x.store(2); });
              t1.start();
              t2.start();
              t1.join();
              t2.join();
            }),
            2U);
}

// Random small programs (2 or 3 threads, 1 to 3 operations each: a load, a store or a
// fetch_add of one of two variables): DPOR's count of classes equals the number of different
// orders of the conflicting operations among all interleavings, enumerated by brute force. Fewer
// would be a missed class (unsound), more a class explored twice.
struct Op {
  int var;
  int kind;  // 0 load, 1 store, 2 fetch_add
};
using Program = std::vector<std::vector<Op>>;
void showValue(const Op& o, std::ostream& out) {
  out << (o.kind == 0 ? "load" : o.kind == 1 ? "store" : "fetch_add") << "(v" << o.var << ")";
}

bool conflicting(const Op& a, const Op& b) { return a.var == b.var && (a.kind != 0 || b.kind != 0); }

std::uint64_t classes_by_brute_force(const Program& program) {
  std::vector<std::pair<int, int>> events;  // (thread, index): every operation, numbered
  for (int t = 0; t < static_cast<int>(program.size()); ++t) {
    for (int i = 0; i < static_cast<int>(program[t].size()); ++i) events.emplace_back(t, i);
  }
  std::set<std::vector<bool>> orders;
  std::vector<int> next(program.size(), 0);
  std::vector<int> position(events.size(), 0);
  int placed = 0;
  const std::function<void()> enumerate = [&] {
    if (placed == static_cast<int>(events.size())) {
      std::vector<bool> order;  // for each conflicting pair of different threads: which came first
      for (std::size_t a = 0; a < events.size(); ++a) {
        for (std::size_t b = a + 1; b < events.size(); ++b) {
          const auto [ta, ia] = events[a];
          const auto [tb, ib] = events[b];
          if (ta != tb && conflicting(program[ta][ia], program[tb][ib])) order.push_back(position[a] < position[b]);
        }
      }
      orders.insert(order);
      return;
    }
    for (int t = 0; t < static_cast<int>(program.size()); ++t) {
      if (next[t] == static_cast<int>(program[t].size())) continue;
      const auto e = static_cast<std::size_t>(std::find(events.begin(), events.end(), std::make_pair(t, next[t])) -
                                              events.begin());
      position[e] = placed++;
      ++next[t];
      enumerate();
      --next[t];
      --placed;
    }
  };
  enumerate();
  return orders.size();
}

// Runs `program` (one thread per operation list) under DPOR to the end of the search.
Result explore_program(const Program& program) {
  return explore(dpor(100000), [&program]<Platform P>() {
    typename P::template Atomic<int> vars[2] = {0, 0};
    std::deque<BasicThread<P>> threads;
    for (const std::vector<Op>& ops : program) {
      threads.emplace_back([&vars, &ops] {
        for (const Op& o : ops) {
          if (o.kind == 0) (void)vars[o.var].load();
          if (o.kind == 1) vars[o.var].store(1);
          if (o.kind == 2) vars[o.var].fetch_add(1);
        }
      });
    }
    for (auto& t : threads) t.start();
    for (auto& t : threads) t.join();
  });
}

RC_GTEST_PROP(DporClasses, EqualTheOrdersOfConflictingOperationsByBruteForce, ()) {
  const auto op = rc::gen::build<Op>(rc::gen::set(&Op::var, rc::gen::inRange(0, 2)),
                                     rc::gen::set(&Op::kind, rc::gen::inRange(0, 3)));
  const Program program =
      *rc::gen::container<Program>(*rc::gen::inRange<std::size_t>(2, 4),
                                   rc::gen::container<std::vector<Op>>(*rc::gen::inRange<std::size_t>(1, 4), op));
  const Result r = explore_program(program);
  RC_ASSERT(r.passed());
  RC_ASSERT(r.exhausted);
  RC_ASSERT(r.equivalence_classes == classes_by_brute_force(program));
}

// Random programs of up to 3 threads with 1 or 2 operations each, among them two that may block:
// an increment and a read under a Mutex (its futex waits and wakes are scheduling points too). Whatever the threads can
// observe (every value each one reads, and the final values) in some schedule of a long random walk, DPOR observes in
// some execution of its complete search: a missed outcome is a missed class.
struct LockedOp {
  int var;
  int kind;  // 0 load, 1 store, 2 fetch_add, 3 locked increment, 4 locked load
};
using LockedProgram = std::vector<std::vector<LockedOp>>;
void showValue(const LockedOp& o, std::ostream& out) {
  static const char* const kNames[] = {"load", "store", "fetch_add", "locked increment", "locked load"};
  out << kNames[o.kind] << "(v" << o.var << ")";
}

// The outcomes of `program` over every schedule `options` runs.
std::set<std::string> outcomes(const LockedProgram& program, const Options& options, Result& result) {
  std::set<std::string> seen;
  result = explore(options, [&program, &seen]<Platform P>() {
    typename P::template Atomic<int> vars[2] = {0, 0};
    BasicMutex<P> m;
    std::vector<std::string> reads(program.size());
    std::deque<BasicThread<P>> threads;
    for (std::size_t t = 0; t < program.size(); ++t) {
      threads.emplace_back([&vars, &m, &ops = program[t], &read = reads[t], t] {
        for (std::size_t i = 0; i < ops.size(); ++i) {
          const LockedOp& o = ops[i];
          auto& v = vars[o.var];
          if (o.kind == 0) read += std::to_string(v.load()) + ",";
          if (o.kind == 1) v.store(static_cast<int>(10 * (t + 1) + i));
          if (o.kind == 2) read += std::to_string(v.fetch_add(1)) + ",";
          if (o.kind >= 3) {
            const std::lock_guard<BasicMutex<P>> hold(m);
            const int x = v.load();
            read += std::to_string(x) + ",";
            if (o.kind == 3) v.store(x + 1);
          }
        }
      });
    }
    for (auto& t : threads) t.start();
    for (auto& t : threads) t.join();
    std::string outcome;
    for (const std::string& r : reads) outcome += r + "|";
    seen.insert(outcome + std::to_string(vars[0].load()) + "," + std::to_string(vars[1].load()));
  });
  return seen;
}

RC_GTEST_PROP(DporOutcomes, IncludeEveryOutcomeOfARandomWalk, ()) {
  const auto op = rc::gen::build<LockedOp>(rc::gen::set(&LockedOp::var, rc::gen::inRange(0, 2)),
                                           rc::gen::set(&LockedOp::kind, rc::gen::inRange(0, 5)));
  const LockedProgram program = *rc::gen::container<LockedProgram>(
      *rc::gen::inRange<std::size_t>(2, 4),
      rc::gen::container<std::vector<LockedOp>>(*rc::gen::inRange<std::size_t>(1, 3), op));
  Result searched;
  const std::set<std::string> by_dpor = outcomes(program, dpor(3000), searched);
  RC_ASSERT(searched.passed());
  // Three threads contending for the Mutex make more classes than a test can run (every step of
  // its lock word conflicts with every other): such a program is left out.
  RC_PRE(searched.exhausted);
  Options walk;
  walk.strategy = Strategy::random_walk;
  walk.memory_model = MemoryModel::sc;
  walk.schedules = 500;
  walk.jobs = 1;
  walk.seed = *rc::gen::arbitrary<std::uint64_t>();
  Result walked;
  for (const std::string& outcome : outcomes(program, walk, walked)) {
    RC_ASSERT(by_dpor.count(outcome) == 1U);
  }
  RC_ASSERT(walked.passed());
}

// The race between T1's store of v1 and T2's load of it can only be reversed by an execution
// that starts with T3 (its store of v0 must come before T1's load): reversing it by trying T1
// first would only repeat a class explored before.
TEST(DporClasses, AReversalThatMustStartWithAThirdThread) {
  const Program program = {{{0, 0}, {1, 1}}, {{0, 0}, {1, 0}}, {{0, 0}, {0, 1}}};
  const Result r = explore_program(program);
  EXPECT_EQ(r.equivalence_classes, classes_by_brute_force(program));
}

struct LostUpdate {
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<int> x{0};
    BasicThread<P> t1([&] { x.store(x.load() + 1); });
    BasicThread<P> t2([&] { x.store(x.load() + 1); });
    t1.start();
    t2.start();
    t1.join();
    t2.join();
    INTERLEAVE_ASSERT(x.load() == 2, "an increment was lost");
  }
};

TEST(Dpor, FindsTheLostUpdateWithAChoicesTokenThatReplaysIt) {
  const Result found = explore(dpor(), LostUpdate{});
  ASSERT_TRUE(found.failed());
  EXPECT_NE(found.failure->message.find("an increment was lost"), std::string::npos) << found;
  EXPECT_LE(found.schedules_run, 4U) << "the lost update is one of the 4 classes";
  const std::string token = found.reproduce_token();
  EXPECT_EQ(token.rfind("choices.", 0), 0U) << token;
  Options replay;
  replay.replay = token;
  const Result again = explore(replay, LostUpdate{});
  ASSERT_TRUE(again.failed()) << again;
  EXPECT_EQ(again.failure->message, found.failure->message);
  EXPECT_EQ(again.steps, found.steps);
}

// A counter under a Mutex (the futex-based lock's own atomics and waits are what DPOR orders):
// every class passes, and the search ends.
TEST(Dpor, ProvesAMutexCounterCorrect) {
  const Result r = explore(dpor(), []<Platform P>() {
    BasicMutex<P> m;
    int counter = 0;
    BasicThread<P> t1([&] {
      for (int i = 0; i < 2; ++i) {
        std::lock_guard lock(m);
        ++counter;
      }
    });
    BasicThread<P> t2([&] {
      for (int i = 0; i < 2; ++i) {
        std::lock_guard lock(m);
        ++counter;
      }
    });
    t1.start();
    t2.start();
    t1.join();
    t2.join();
    INTERLEAVE_ASSERT(counter == 4);
  });
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_TRUE(r.exhausted) << r;
  EXPECT_GT(r.equivalence_classes, 1U) << r;
}

// The same counter without the lock: the race detector reports the plain increment in the first
// execution where the two increments are unordered.
TEST(Dpor, FindsADataRaceOnPlainMemory) {
  const Result r = explore(dpor(), []<Platform P>() {
    typename P::template Atomic<int> started{0};
    Shared<int, P> counter{0};
    BasicThread<P> t1([&] {
      started.fetch_add(1);
      counter.write(counter.read() + 1);
    });
    t1.start();
    started.fetch_add(1);
    counter.write(counter.read() + 1);
    t1.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::data_race) << r;
}

TEST(Dpor, FindsAnAbbaDeadlock) {
  const Result r = explore(dpor(), []<Platform P>() {
    BasicMutex<P> a;
    BasicMutex<P> b;
    BasicThread<P> t1([&] {
      std::lock_guard la(a);
      std::lock_guard lb(b);
    });
    t1.start();
    {
      std::lock_guard lb(b);
      std::lock_guard la(a);
    }
    t1.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
}

// A spin that yields until a flag is set: the yielding fiber lets the other go first, so the
// search is finite and ends.
TEST(Dpor, ASpinWaitThatYieldsEnds) {
  const Result r = explore(dpor(), []<Platform P>() {
    typename P::template Atomic<int> flag{0};
    typename P::template Atomic<int> data{0};
    BasicThread<P> setter([&] {
      data.store(7);
      flag.store(1);
    });
    setter.start();
    while (flag.load() == 0) P::yield();
    INTERLEAVE_ASSERT(data.load() == 7);
    setter.join();
  });
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_TRUE(r.exhausted) << r;
}

// A spin lock whose loop never yields: DPOR keeps the running fiber going, so the spin would
// unroll without end (and each unrolling is a new class). The search stops at once with an error
// that says so, not a livelock report (there is none) and not a hang.
TEST(Dpor, ASpinLockThatNeverYieldsIsAClearErrorNotAHangNorALivelock) {
  const auto body = []<Platform P>() {
    typename P::template Atomic<bool> locked{false};
    typename P::template Atomic<int> count{0};
    const auto increment = [&] {
      while (locked.exchange(true)) {
      }
      count.store(count.load() + 1);
      locked.store(false);
    };
    BasicThread<P> a(increment);
    BasicThread<P> b(increment);
    a.start();
    b.start();
    a.join();
    b.join();
    INTERLEAVE_ASSERT(count.load() == 2);
  };
  try {
    const Result r = explore(dpor(), body);
    ADD_FAILURE() << "no error: " << r;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("make the loop yield"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1000 scheduling points in a row"), std::string::npos) << e.what();
  }
}

// A wake with two waiters: which one it takes is a choice the search makes both ways. The body
// fails only when the second waiter is the one woken first.
TEST(Dpor, TriesEveryWaiterAWakeCanTake) {
  const Result r = explore(dpor(), []<Platform P>() {
    BasicSemaphore<P> go(0);
    typename P::template Atomic<int> order{0};
    int first_out = 0;
    BasicThread<P> w1([&] {
      order.store(1);
      go.acquire();
      if (first_out == 0) first_out = 1;
      go.release();
    });
    BasicThread<P> w2([&] {
      while (order.load() == 0) P::yield();
      go.acquire();
      if (first_out == 0) first_out = 2;
      go.release();
    });
    w1.start();
    w2.start();
    go.release();
    w1.join();
    w2.join();
    INTERLEAVE_ASSERT(first_out == 1, "waiter 2 left first");
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_NE(r.failure->message.find("waiter 2 left first"), std::string::npos) << r;
}

TEST(Dpor, StoppingAtTheLimitIsNoProof) {
  const Result r = explore(dpor(3), []<Platform P>() {
    typename P::template Atomic<int> x{0};
    BasicThread<P> t1([&] { x.store(1); });
    BasicThread<P> t2([&] { x.store(2); });
    BasicThread<P> t3([&] { x.store(3); });
    t1.start();
    t2.start();
    t3.start();
    t1.join();
    t2.join();
    t3.join();
  });
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_FALSE(r.exhausted);
  EXPECT_EQ(r.schedules_run, 3U);
  EXPECT_NE(r.report().find("this is no proof"), std::string::npos) << r;
}

// Sharding splits schedule indices among processes; a DPOR search plans each execution from the
// ones before it, so shard 0 runs all of it and the others say they ran none.
TEST(Dpor, ShardZeroRunsTheWholeSearch) {
  Options first = dpor();
  first.shard_count = 2;
  first.shard_index = 0;
  const Result all = explore(first, LostUpdate{});
  EXPECT_TRUE(all.failed()) << all;
  Options second = first;
  second.shard_index = 1;
  const Result none = explore(second, LostUpdate{});
  EXPECT_TRUE(none.passed()) << none;
  EXPECT_EQ(none.schedules_run, 0U);
  EXPECT_NE(none.report().find("shard 0 runs all of it"), std::string::npos) << none;
}

// A body that runs differently each time cannot be searched by re-execution: reported, not
// explored wrongly.
TEST(Dpor, ABodyThatRunsDifferentlyEachTimeIsReported) {
  static int runs = 0;
  runs = 0;
  const Result r = explore(dpor(), []<Platform P>() {
    typename P::template Atomic<int> x{0};
    if (++runs > 1) x.store(3);  // from the second execution on: a step the first did not have
    BasicThread<P> t1([&] { x.store(1); });
    t1.start();
    x.store(2);
    t1.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::nondeterminism) << r;
  EXPECT_NE(r.failure->message.find("does not control"), std::string::npos) << r;
}

TEST(Dpor, RefusesTheWeakMemoryModel) {
  Options o = dpor();
  o.memory_model = MemoryModel::weak;
  try {
    (void)explore(o, []<Platform P>() {});
    FAIL() << "accepted DPOR under the weak model";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("sequentially consistent"), std::string::npos) << e.what();
  }
}

TEST(Dpor, ItsTokensAreRefusedWithTheReason) {
  try {
    (void)ScheduleId::parse("dpor.s=1eaf5eed.i=3.w=0.m=1000.t=3-2-1234abcd");
    FAIL() << "accepted a dpor token";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("INTERLEAVE_STRATEGY=dpor"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace interleave
