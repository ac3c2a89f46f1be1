// The linearizability checker on hand-written histories (known linearizable and known
// non-linearizable ones, pending and blocked calls, objects checked apart, the bounds), and the
// parallel state-machine runner on a correct and a broken counter.
#include "interleave/linearizability.h"

#include <gtest/gtest.h>

#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "interleave/parallel_state_machine.h"
#include "interleave/semaphore.h"

namespace interleave {
namespace {

// A FIFO queue: put never waits, get waits while empty, try_get returns -1 when empty.
struct QueueModel {
  std::deque<int> items;
  friend bool operator==(const QueueModel&, const QueueModel&) = default;
  friend std::ostream& operator<<(std::ostream& out, const QueueModel& m) {
    out << "[";
    for (std::size_t i = 0; i < m.items.size(); ++i) out << (i == 0 ? "" : " ") << m.items[i];
    return out << "]";
  }
};
using QueueOperation = Operation<QueueModel, int>;

struct Put : QueueOperation {
  explicit Put(int v) : value(v) {}
  int apply(QueueModel& m) const override {
    m.items.push_back(value);
    return 0;
  }
  void show(std::ostream& out) const override { out << "put(" << value << ")"; }
  int value;
};
struct Get : QueueOperation {
  bool enabled(const QueueModel& m) const override { return !m.items.empty(); }
  int apply(QueueModel& m) const override {
    const int v = m.items.front();
    m.items.pop_front();
    return v;
  }
  void show(std::ostream& out) const override { out << "get()"; }
};
struct TryGet : QueueOperation {
  int apply(QueueModel& m) const override {
    if (m.items.empty()) return -1;
    const int v = m.items.front();
    m.items.pop_front();
    return v;
  }
  void show(std::ostream& out) const override { out << "try_get()"; }
};

using QueueHistory = History<QueueModel, int>;
using QueueCall = Call<QueueModel, int>;

QueueCall call(std::shared_ptr<const QueueOperation> op, std::uint32_t thread, std::uint64_t invoked,
               std::uint64_t returned, int result, std::uint32_t object = 0) {
  QueueCall c;
  c.operation = std::move(op);
  c.thread = thread;
  c.object = object;
  c.invoked = invoked;
  c.returned = returned;
  c.result = result;
  return c;
}
QueueCall unfinished(std::shared_ptr<const QueueOperation> op, std::uint32_t thread, std::uint64_t invoked,
                     Completion how, std::uint32_t object = 0) {
  QueueCall c;
  c.operation = std::move(op);
  c.thread = thread;
  c.object = object;
  c.invoked = invoked;
  c.completion = how;
  return c;
}
std::shared_ptr<const QueueOperation> put(int v) { return std::make_shared<Put>(v); }
std::shared_ptr<const QueueOperation> get() { return std::make_shared<Get>(); }
std::shared_ptr<const QueueOperation> try_get() { return std::make_shared<TryGet>(); }

QueueHistory one_queue(std::vector<QueueCall> calls) {
  QueueHistory h;
  h.initial.push_back({});
  h.calls = std::move(calls);
  return h;
}

TEST(Linearizability, SequentialFifoHistoryIsLinearizable) {
  const auto h =
      one_queue({call(put(1), 0, 1, 2, 0), call(put(2), 0, 3, 4, 0), call(get(), 1, 5, 6, 1), call(get(), 1, 7, 8, 2)});
  EXPECT_TRUE(check(h).linearizable());
}

TEST(Linearizability, OverlappingPutsMayTakeEffectInEitherOrder) {
  // put(1) and put(2) overlap, so the gets may see 2 first.
  const auto h =
      one_queue({call(put(1), 0, 1, 4, 0), call(put(2), 1, 2, 3, 0), call(get(), 2, 5, 6, 2), call(get(), 2, 7, 8, 1)});
  EXPECT_TRUE(check(h).linearizable());
}

TEST(Linearizability, RealTimeOrderOfPutsIsRespected) {
  // put(1) returned before put(2) began: a queue must give 1 first.
  const auto h =
      one_queue({call(put(1), 0, 1, 2, 0), call(put(2), 1, 3, 4, 0), call(get(), 2, 5, 6, 2), call(get(), 2, 7, 8, 1)});
  const CheckResult r = check(h);
  EXPECT_EQ(r.verdict, Verdict::not_linearizable);
  EXPECT_NE(r.explanation.find("get() would return 1, but returned 2"), std::string::npos) << r.explanation;
}

TEST(Linearizability, EmptyAfterACompletedPutIsNotLinearizable) {
  const auto h = one_queue({call(put(7), 0, 1, 2, 0), call(try_get(), 1, 3, 4, -1)});
  EXPECT_EQ(check(h).verdict, Verdict::not_linearizable);
}

TEST(Linearizability, EmptyDuringAnOverlappingPutIsLinearizable) {
  const auto h = one_queue({call(put(7), 0, 1, 4, 0), call(try_get(), 1, 2, 3, -1)});
  EXPECT_TRUE(check(h).linearizable());
}

TEST(Linearizability, AnItemGotTwiceIsNotLinearizable) {
  const auto h = one_queue({call(put(5), 0, 1, 2, 0), call(get(), 1, 3, 6, 5), call(get(), 2, 4, 5, 5)});
  EXPECT_EQ(check(h).verdict, Verdict::not_linearizable);
}

TEST(Linearizability, APendingCallMayHaveTakenEffect) {
  // put(3) never returned, yet its item was got: it took effect.
  const auto h = one_queue({unfinished(put(3), 0, 1, Completion::pending), call(get(), 1, 2, 3, 3)});
  EXPECT_TRUE(check(h).linearizable());
}

TEST(Linearizability, APendingCallMayNotHaveTakenEffect) {
  const auto h = one_queue({unfinished(put(3), 0, 1, Completion::pending), call(try_get(), 1, 2, 3, -1)});
  EXPECT_TRUE(check(h).linearizable());
}

TEST(Linearizability, APendingCallTakesEffectOnlyAfterItsInvocation) {
  // try_get returned 3 before put(3) was even invoked.
  const auto h = one_queue({call(try_get(), 1, 1, 2, 3), unfinished(put(3), 0, 3, Completion::pending)});
  EXPECT_EQ(check(h).verdict, Verdict::not_linearizable);
}

TEST(Linearizability, ABlockedGetOnAnEmptyQueueIsLinearizable) {
  const auto h =
      one_queue({call(put(1), 0, 1, 2, 0), call(get(), 1, 3, 4, 1), unfinished(get(), 2, 5, Completion::blocked)});
  EXPECT_TRUE(check(h).linearizable());
}

TEST(Linearizability, ABlockedGetBesideAnItemIsALostWakeup) {
  const auto h = one_queue({unfinished(get(), 1, 1, Completion::blocked), call(put(1), 0, 2, 3, 0)});
  const CheckResult r = check(h);
  EXPECT_EQ(r.verdict, Verdict::not_linearizable);
  EXPECT_NE(r.explanation.find("get() is blocked at the end, but the specification lets it proceed"), std::string::npos)
      << r.explanation;
}

TEST(Linearizability, ABlockedGetIsFineWhenAnotherGetTookTheItem) {
  const auto h =
      one_queue({unfinished(get(), 1, 1, Completion::blocked), call(put(1), 0, 2, 3, 0), call(get(), 2, 4, 5, 1)});
  EXPECT_TRUE(check(h).linearizable());
}

TEST(Linearizability, ObjectsAreCheckedApart) {
  QueueHistory h;
  h.initial = {QueueModel{}, QueueModel{{9}}};
  // Object 0 is fine; object 1 held 9, so its get() returning 4 is wrong.
  h.calls = {call(put(1), 0, 1, 4, 0, 0), call(get(), 1, 2, 5, 1, 0), call(get(), 2, 3, 6, 4, 1)};
  const CheckResult r = check(h);
  EXPECT_EQ(r.verdict, Verdict::not_linearizable);
  EXPECT_EQ(r.object, 1U);
  EXPECT_NE(r.explanation.find("object 1"), std::string::npos) << r.explanation;
}

// Many overlapping puts of the same value: without memoization the search would try every order
// of them (12! = 479001600) before concluding; with it, a state is a set of calls (2^12 = 4096).
std::vector<QueueCall> twelve_identical_puts_then_an_impossible_get() {
  std::vector<QueueCall> calls;
  for (int i = 0; i < 12; ++i) calls.push_back(call(put(1), static_cast<std::uint32_t>(i), i + 1, 100, 0));
  calls.push_back(call(try_get(), 30, 101, 102, 2));  // no put gave 2: forces the full search
  return calls;
}

TEST(Linearizability, MemoizationKeepsIdenticalConcurrentCallsCheap) {
  const CheckResult r = check(one_queue(twelve_identical_puts_then_an_impossible_get()));
  EXPECT_EQ(r.verdict, Verdict::not_linearizable);
  EXPECT_LE(r.states, 4096U);
}

TEST(Linearizability, AHistoryBeyondTheStateBoundIsReportedTooLarge) {
  CheckLimits limits;
  limits.max_states = 1000;
  const CheckResult r = check(one_queue(twelve_identical_puts_then_an_impossible_get()), limits);
  EXPECT_EQ(r.verdict, Verdict::too_large);
  EXPECT_NE(r.explanation.find("more than 1000 search states"), std::string::npos) << r.explanation;
  limits.max_states = 5000;
  EXPECT_EQ(check(one_queue(twelve_identical_puts_then_an_impossible_get()), limits).verdict,
            Verdict::not_linearizable);
}

TEST(Linearizability, MoreCallsOnOneObjectThanTheSearchAcceptsIsTooLarge) {
  std::vector<QueueCall> calls;
  for (std::uint64_t i = 0; i <= kMaxCallsPerObject; ++i) calls.push_back(call(put(1), 0, 2 * i + 1, 2 * i + 2, 0));
  const CheckResult r = check(one_queue(std::move(calls)));
  EXPECT_EQ(r.verdict, Verdict::too_large);
  EXPECT_NE(r.explanation.find("257 calls, more than the 256"), std::string::npos) << r.explanation;
}

TEST(Linearizability, AMalformedHistoryIsRefusedWithWhatIsWrong) {
  const CheckResult r = check(one_queue({call(put(1), 0, 1, 2, 0, /*object=*/3)}));
  EXPECT_EQ(r.verdict, Verdict::malformed);
  EXPECT_NE(r.explanation.find("names object 3, but the history has 1 initial states"), std::string::npos)
      << r.explanation;
  const CheckResult backwards = check(one_queue({call(put(1), 0, 5, 2, 0)}));
  EXPECT_EQ(backwards.verdict, Verdict::malformed);
  EXPECT_NE(backwards.explanation.find("returned before it was invoked"), std::string::npos);
}

TEST(Linearizability, TheTimelineShowsOneColumnPerThread) {
  auto h = one_queue({call(put(1), 0, 1, 3, 0), call(get(), 1, 2, 4, 1), unfinished(get(), 2, 5, Completion::blocked)});
  h.thread_names = {"producer", "consumer"};
  EXPECT_EQ(format_timeline(h, 0),
            "        producer                  consumer                  thread 2\n"
            "     1  put(1) ...\n"
            "     2                            get() ...\n"
            "     3  ... -> 0\n"
            "     4                            ... -> 1\n"
            "     5                                                      get() ...\n"
            "     6                                                      ... (blocked at the end)\n");
}

// The runner: a counter whose increment returns the previous value.
struct CounterModel {
  int value = 0;
  friend bool operator==(const CounterModel&, const CounterModel&) = default;
  friend std::ostream& operator<<(std::ostream& out, const CounterModel& m) { return out << m.value; }
};

// Increment with fetch_add (right) or with a separate load and store (a lost update).
template <bool Atomic>
struct Counter {
  ModelPlatform::Atomic<std::uint32_t> value{0};
  int increment() {
    if constexpr (Atomic) {
      return static_cast<int>(value.fetch_add(1));
    } else {
      const std::uint32_t v = value.load();
      value.store(v + 1);
      return static_cast<int>(v);
    }
  }
};

template <bool Atomic>
struct CounterSpec {
  using Model = CounterModel;
  using Sut = Counter<Atomic>;
  using Result = int;
  struct Increment : Command<Model, Sut, Result> {
    int apply(Model& m) const override { return m.value++; }
    int run(Sut& sut) const override { return sut.increment(); }
    void show(std::ostream& out) const override { out << "increment()"; }
  };
  Model initial_model() const { return {}; }
  std::unique_ptr<Sut> make_object() const { return std::make_unique<Sut>(); }
  std::vector<std::shared_ptr<const Command<Model, Sut, Result>>> unblock(Sut&) const { return {}; }
};

ParallelScenario<Command<CounterModel, Counter<false>, int>> two_increments_racing() {
  ParallelScenario<Command<CounterModel, Counter<false>, int>> s;
  auto inc = std::make_shared<CounterSpec<false>::Increment>();
  s.threads = {{inc}, {inc}};
  return s;
}

TEST(ParallelStateMachine, ALostUpdateIsNotLinearizable) {
  Options options;
  options.schedules = 200;
  const Result r = explore_parallel(CounterSpec<false>{}, two_increments_racing(), options);
  ASSERT_TRUE(r.failed());
  const std::string report = r.report();
  EXPECT_NE(report.find("history not linearizable"), std::string::npos) << report;
  EXPECT_NE(report.find("thread 1"), std::string::npos) << report;
  EXPECT_NE(report.find("increment() would return 1, but returned 0"), std::string::npos) << report;
  EXPECT_NE(report.find("reproduce: INTERLEAVE_REPLAY="), std::string::npos) << report;
  // For the reader, on demand: INTERLEAVE_EXPECTED_FAILURE_REPORTS=on.
  Options shown;
  shown.apply_environment();
  if (shown.expected_failure_reports)
    std::cout << "What interleave reports for a counter with a lost update:\n" << report;
}

TEST(ParallelStateMachine, AnAtomicCounterIsLinearizable) {
  ParallelScenario<Command<CounterModel, Counter<true>, int>> s;
  auto inc = std::make_shared<CounterSpec<true>::Increment>();
  s.prefix = {inc};
  s.threads = {{inc, inc}, {inc}, {inc, inc}};
  s.suffix = {inc};
  Options options;
  options.schedules = 200;
  const Result r = explore_parallel(CounterSpec<true>{}, s, options);
  EXPECT_TRUE(r.passed()) << r;
}

// Semaphore acquirers left asleep once the permits are gone: the run ends quiescent, the sleepers
// are checked as blocked calls (the model has no permit, so they must wait), then woken.
struct PermitsModel {
  int permits = 1;
  friend bool operator==(const PermitsModel&, const PermitsModel&) = default;
  friend std::ostream& operator<<(std::ostream& out, const PermitsModel& m) { return out << m.permits << " permits"; }
};
struct SemaphoreSpec {
  using Model = PermitsModel;
  using Sut = BasicSemaphore<ModelPlatform>;
  using Result = int;
  struct Acquire : Command<Model, Sut, Result> {
    bool enabled(const Model& m) const override { return m.permits > 0; }
    int apply(Model& m) const override {
      --m.permits;
      return 0;
    }
    int run(Sut& sut) const override {
      sut.acquire();
      return 0;
    }
    void show(std::ostream& out) const override { out << "acquire()"; }
  };
  Model initial_model() const { return {}; }
  std::unique_ptr<Sut> make_object() const { return std::make_unique<Sut>(1); }
  struct Release : Command<Model, Sut, Result> {
    int apply(Model& m) const override {
      m.permits += 8;
      return 0;
    }
    int run(Sut& sut) const override {
      sut.release(8);
      return 0;
    }
    void show(std::ostream& out) const override { out << "release(8)"; }
  };
  std::vector<std::shared_ptr<const Command<Model, Sut, Result>>> unblock(Sut&) const {
    return {std::make_shared<Release>()};
  }
};

TEST(ParallelStateMachine, CallsAsleepAtAQuiescentEndAreCheckedAsBlocked) {
  ParallelScenario<Command<PermitsModel, BasicSemaphore<ModelPlatform>, int>> s;
  auto acquire = std::make_shared<SemaphoreSpec::Acquire>();
  s.threads = {{acquire}, {acquire}, {acquire}};
  s.suffix = {acquire};  // never runs: the parallel part ends quiescent
  Options options;
  options.schedules = 100;
  const Result r = explore_parallel(SemaphoreSpec{}, s, options);
  EXPECT_TRUE(r.passed()) << r;
}

// The same scenario against a model that claims two permits: a sleeper beside a free permit is
// reported as not linearizable.
struct TwoPermitsSpec : SemaphoreSpec {
  Model initial_model() const { return {2}; }
};

TEST(ParallelStateMachine, ASleeperTheSpecificationWouldLetThroughIsReported) {
  ParallelScenario<Command<PermitsModel, BasicSemaphore<ModelPlatform>, int>> s;
  auto acquire = std::make_shared<SemaphoreSpec::Acquire>();
  s.threads = {{acquire}, {acquire}};
  Options options;
  options.schedules = 20;
  const Result r = explore_parallel(TwoPermitsSpec{}, s, options);
  ASSERT_TRUE(r.failed());
  EXPECT_NE(r.report().find("blocked at the end, but the specification lets it proceed"), std::string::npos) << r;
}

}  // namespace
}  // namespace interleave
