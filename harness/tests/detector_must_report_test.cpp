// The race detector's must-report suite: classic data races and lifetime races, each found on the
// first schedule (both accesses run on every schedule of these bodies), for every strategy, with a
// report naming both accesses and the reproduce line. In the tsan preset each case also runs with
// our detector off, and ThreadSanitizer must report it too.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../../properties/zoo/relaxed_platform.h"
#include "interleave/event.h"
#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/pipe.h"
#include "interleave/queue.h"
#include "interleave/shared.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

#if INTERLEAVE_TSAN
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif

// Spins (a scheduling point per turn) until a relaxed flag is up: no happens-before edge.
template <Platform P>
void await_relaxed(const typename P::template Atomic<std::uint32_t>& flag) {
  while (flag.load(std::memory_order_relaxed) == 0) P::yield();
}

struct WriteWrite {
  static constexpr const char* kName = "WriteWrite";
  template <Platform P>
  void operator()() const {
    Shared<int, P> x{0};
    BasicThread<P> t([&] { x.write(1); });
    t.start();
    x.write(2);
    t.join();
  }
};

struct WriteRead {
  static constexpr const char* kName = "WriteRead";
  template <Platform P>
  void operator()() const {
    Shared<int, P> x{0};
    int seen = 0;
    BasicThread<P> t([&] { x.write(1); });
    t.start();
    seen = x.read();
    t.join();
    INTERLEAVE_ASSERT(seen == 0 || seen == 1);
  }
};

struct LockOnOneSide {
  static constexpr const char* kName = "LockOnOneSide";
  template <Platform P>
  void operator()() const {
    BasicMutex<P> lock;
    Shared<int, P> x{0};
    BasicThread<P> t([&] {
      std::lock_guard g(lock);
      x.with_mut([](int& v) { ++v; });
    });
    t.start();
    x.with_mut([](int& v) { ++v; });
    t.join();
  }
};

struct TwoLocks {
  static constexpr const char* kName = "TwoLocks";
  template <Platform P>
  void operator()() const {
    BasicMutex<P> a;
    BasicMutex<P> b;
    Shared<int, P> x{0};
    BasicThread<P> t([&] {
      std::lock_guard g(a);
      x.write(x.read() + 1);
    });
    t.start();
    {
      std::lock_guard g(b);
      x.write(x.read() + 1);
    }
    t.join();
  }
};

// The writer has finished (its last act after the write is the relaxed flag) but was not joined
// before the read: finishing is no happens-before edge, only join is.
struct FinishedNotJoined {
  static constexpr const char* kName = "FinishedNotJoined";
  template <Platform P>
  void operator()() const {
    Shared<int, P> x{0};
    typename P::template Atomic<std::uint32_t> done{0};
    BasicThread<P> t([&] {
      x.write(1);
      done.store(1, std::memory_order_relaxed);
    });
    t.start();
    await_relaxed<P>(done);
    for (int i = 0; i < 3; ++i) P::yield();
    const int seen = x.read();
    t.join();
    INTERLEAVE_ASSERT(seen == 1);
  }
};

struct HeapObjectTouchedByBoth {
  static constexpr const char* kName = "HeapObjectTouchedByBoth";
  template <Platform P>
  void operator()() const {
    auto object = std::make_unique<Shared<int, P>>(0);
    Shared<int, P>* passed = object.get();
    BasicThread<P> t([passed] { passed->write(7); });
    t.start();
    object->write(8);
    t.join();
  }
};

struct RelaxedFlagPublication {
  static constexpr const char* kName = "RelaxedFlagPublication";
  template <Platform P>
  void operator()() const {
    Shared<int, P> data{0};
    typename P::template Atomic<std::uint32_t> ready{0};
    BasicThread<P> t([&] {
      data.write(42);
      ready.store(1, std::memory_order_relaxed);
    });
    t.start();
    await_relaxed<P>(ready);
    const int seen = data.read();
    t.join();
    INTERLEAVE_ASSERT(seen == 42);
  }
};

// The hand-off through the queue orders the first write before the read; the producer's second
// write, after put(), is ordered with nothing the consumer does.
struct QueueThenLaterWrite {
  static constexpr const char* kName = "QueueThenLaterWrite";
  template <Platform P>
  void operator()() const {
    BasicQueue<int, P> queue(4);
    Shared<int, P> data{0};
    BasicThread<P> producer([&] {
      data.write(1);
      queue.put(1);
      data.write(2);
    });
    producer.start();
    (void)queue.get();
    const int seen = data.read();
    producer.join();
    INTERLEAVE_ASSERT(seen >= 1);
  }
};

// Ten threads hand a counter on under one lock; the last two also write a second cell after their
// unlock, where nothing orders the two writes. Fibers 8 and beyond keep their clock entries
// outside the vector clock's inline part, so the race is between two such fibers.
struct RaceBetweenTheNinthAndTenthThreads {
  static constexpr const char* kName = "RaceBetweenTheNinthAndTenthThreads";
  template <Platform P>
  void operator()() const {
    BasicMutex<P> lock;
    Shared<int, P> counter{0};
    Shared<int, P> racy{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 1; t <= 10; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&, t] {
        {
          std::lock_guard guard(lock);
          counter.write(counter.read() + 1);
        }
        if (t >= 9) racy.write(t);
      }));
    }
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
  }
};

// The main fiber destroys `object` once a relaxed flag says the other fiber's last use of it
// (`use`) is done: the flag orders nothing, so the destruction races with that use. The object is
// freed on unwinding too, when a schedule fails before the reset.
template <Platform P, class Object, class Use>
void destroy_after_relaxed_flag(std::unique_ptr<Object> object, Use use) {
  typename P::template Atomic<std::uint32_t> done{0};
  BasicThread<P> t([&] {
    use(*object);
    done.store(1, std::memory_order_relaxed);
  });
  t.start();
  await_relaxed<P>(done);
  object.reset();
  t.join();
}

// An Event deleted after a relaxed "done" flag: set()'s operations on it are not ordered before
// the destruction.
struct EventDestroyedAfterRelaxedFlag {
  static constexpr const char* kName = "EventDestroyedAfterRelaxedFlag";
  template <Platform P>
  void operator()() const {
    destroy_after_relaxed_flag<P>(std::make_unique<BasicEvent<P>>(), [](BasicEvent<P>& event) { event.set(); });
  }
};

struct MutexDestroyedAfterRelaxedFlag {
  static constexpr const char* kName = "MutexDestroyedAfterRelaxedFlag";
  template <Platform P>
  void operator()() const {
    destroy_after_relaxed_flag<P>(std::make_unique<BasicMutex<P>>(), [](BasicMutex<P>& lock) {
      lock.lock();
      lock.unlock();
    });
  }
};

// The same lifetime race by the tenth fiber (fibers 8 and beyond keep their last uses of an object
// outside its state's inline part): nine threads take the lock and are joined, the tenth takes it
// and raises a relaxed flag, and the lock is destroyed before that thread is joined.
struct MutexDestroyedWhileTheTenthFibersUseIsUnordered {
  static constexpr const char* kName = "MutexDestroyedWhileTheTenthFibersUseIsUnordered";
  template <Platform P>
  void operator()() const {
    auto lock = std::make_unique<BasicMutex<P>>();
    auto take = [&] {
      lock->lock();
      lock->unlock();
    };
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 1; t <= 8; ++t) threads.push_back(std::make_unique<BasicThread<P>>(take));
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
    destroy_after_relaxed_flag<P>(std::move(lock), [](BasicMutex<P>& m) {
      m.lock();
      m.unlock();
    });
  }
};

// A Shared cell destroyed while the other fiber's write is not ordered before it.
struct SharedDestroyedAfterRelaxedFlag {
  static constexpr const char* kName = "SharedDestroyedAfterRelaxedFlag";
  template <Platform P>
  void operator()() const {
    destroy_after_relaxed_flag<P>(std::make_unique<Shared<int, P>>(0), [](Shared<int, P>& cell) { cell.write(5); });
  }
};

// An acquire load only orders what a release published: a relaxed load followed by no acquire
// fence does not.
struct FenceMissingOnReaderSide {
  static constexpr const char* kName = "FenceMissingOnReaderSide";
  template <Platform P>
  void operator()() const {
    Shared<int, P> data{0};
    typename P::template Atomic<std::uint32_t> ready{0};
    BasicThread<P> t([&] {
      data.write(42);
      atomic_thread_fence<P>(std::memory_order_release);
      ready.store(1, std::memory_order_relaxed);
    });
    t.start();
    await_relaxed<P>(ready);
    const int seen = data.read();
    t.join();
    INTERLEAVE_ASSERT(seen == 42);
  }
};

// The real Queue with every memory order relaxed (zoo::RelaxedOrdersPlatform): the slot's
// sequence no longer orders the producer's construction of the item in its ring slot (a P::Cell)
// before the consumer's move out of it. The consumer polls, so no futex wake orders them either.
struct QueueWithRelaxedOrders {
  static constexpr const char* kName = "QueueWithRelaxedOrders";
  template <Platform P>
  void operator()() const {
    using Relaxed = zoo::RelaxedOrdersPlatform<P>;
    BasicQueue<int, Relaxed> queue(2);
    BasicThread<Relaxed> producer([&] { queue.put(1); });
    producer.start();
    for (;;) {
      auto got = queue.try_get();
      if (got) break;
      P::yield();
    }
    producer.join();
  }
};

// The real Pipe with every memory order relaxed, so its channel lock neither acquires nor
// releases: the sender's update of the channel's guarded state (P::Cells) and the receiver's look
// at it are unordered. The receiver looks once a relaxed flag says the send is done, so the lock is
// never contended (a futex wake would order them) and only the lock could order the two.
struct PipeWithRelaxedLock {
  static constexpr const char* kName = "PipeWithRelaxedLock";
  template <Platform P>
  void operator()() const {
    using Relaxed = zoo::RelaxedOrdersPlatform<P>;
    auto [receiver, sender] = make_pipe<Relaxed>(PipeOptions{.capacity = 16, .duplex = false});
    typename P::template Atomic<std::uint32_t> sent{0};
    BasicThread<Relaxed> t([&sender = sender, &sent] {
      sender.send_value(1);
      sent.store(1, std::memory_order_relaxed);
    });
    t.start();
    await_relaxed<P>(sent);
    (void)receiver.poll();
    t.join();
  }
};

Options options_for(Strategy strategy, std::uint64_t seed) {
  Options o;
  o.strategy = strategy;
  o.seed = seed;
  o.schedules = 50;
  return o;
}

// Runs the case with our detector on, for both strategies and a few seeds, and checks the report.
template <class Case>
void expect_reported_on_first_schedule() {
  for (Strategy strategy : {Strategy::random_walk, Strategy::pct}) {
    for (std::uint64_t seed : {1ULL, 2ULL, 0x1eaf5eedULL}) {
      const Result r = explore(options_for(strategy, seed), Case{});
      ASSERT_TRUE(r.failed()) << Case::kName << ": no race reported (" << to_string(strategy) << ")";
      EXPECT_EQ(r.failure->kind, FailureKind::data_race) << r;
      EXPECT_EQ(r.schedules_run, 1U) << Case::kName << " was found only on schedule " << r.schedules_run;
      const std::string report = r.report();
      EXPECT_NE(report.find("DATA RACE"), std::string::npos) << report;
      EXPECT_NE(report.find("reproduce: INTERLEAVE_REPLAY="), std::string::npos) << report;
      // Both accesses are named, each with its fiber and step.
      const std::string& message = r.failure->message;
      const auto first = message.find("\n    fiber ");
      ASSERT_NE(first, std::string::npos) << message;
      EXPECT_NE(message.find("\n    fiber ", first + 1), std::string::npos) << message;
      EXPECT_NE(message.find("step "), std::string::npos) << message;
    }
  }
}

// In the tsan preset: run in a child process with TSan configured by `tsan_options`.
void set_tsan_options(const char* value) { ::setenv("TSAN_OPTIONS", value, 1); }

// Exits with 3 when every run reported a data race on its first schedule, else 4.
template <class Case>
[[noreturn]] void run_in_child(bool our_detector) {
  (void)set_race_detector(our_detector);
  bool all = true;
  for (Strategy strategy : {Strategy::random_walk, Strategy::pct}) {
    for (std::uint64_t seed : {1ULL, 2ULL, 0x1eaf5eedULL}) {
      Options o = options_for(strategy, seed);
      o.schedules = our_detector ? 50 : 5;
      const Result r = explore(o, Case{});
      std::fprintf(stderr, "%s", r.report().c_str());
      all = all && r.failed() && r.failure->kind == FailureKind::data_race && r.schedules_run == 1;
    }
  }
  std::fflush(stderr);
  std::_Exit(all ? 3 : 4);
}

template <class Case>
void check_case() {
  if (!kTsan) {
    expect_reported_on_first_schedule<Case>();
    return;
  }
  // Under TSan the racy access (or the free) may reach TSan too: check ours in a child process
  // that TSan does not stop, then check that TSan alone, with our detector off, reports it.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const char* saved = std::getenv("TSAN_OPTIONS");
  const std::string restore = saved != nullptr ? saved : "";
  set_tsan_options("halt_on_error=0:suppress_equal_stacks=0:suppress_equal_addresses=0");
  EXPECT_EXIT(run_in_child<Case>(true), ::testing::ExitedWithCode(3), "DATA RACE") << Case::kName;
  set_tsan_options("halt_on_error=1:exitcode=66:suppress_equal_stacks=0:suppress_equal_addresses=0");
  EXPECT_EXIT(run_in_child<Case>(false), ::testing::ExitedWithCode(66), "WARNING: ThreadSanitizer: data race")
      << Case::kName;
  set_tsan_options(restore.c_str());
}

TEST(DetectorMustReport, UnsynchronizedWriteWrite) { check_case<WriteWrite>(); }
TEST(DetectorMustReport, UnsynchronizedWriteRead) { check_case<WriteRead>(); }
TEST(DetectorMustReport, LockHeldByOnlyOneSide) { check_case<LockOnOneSide>(); }
TEST(DetectorMustReport, TwoDifferentLocksForOneVariable) { check_case<TwoLocks>(); }
TEST(DetectorMustReport, ThreadThatFinishedButWasNotJoined) { check_case<FinishedNotJoined>(); }
TEST(DetectorMustReport, HeapObjectPassedToAThreadAndTouchedByBoth) { check_case<HeapObjectTouchedByBoth>(); }
TEST(DetectorMustReport, FlagPublicationWithRelaxedStoreAndLoad) { check_case<RelaxedFlagPublication>(); }
TEST(DetectorMustReport, ReleaseFenceWithoutAcquireOnTheReader) { check_case<FenceMissingOnReaderSide>(); }
TEST(DetectorMustReport, PublicationThroughQueueThenALaterWrite) { check_case<QueueThenLaterWrite>(); }
TEST(DetectorMustReport, RaceBetweenFibersPastTheInlineClockEntries) {
  check_case<RaceBetweenTheNinthAndTenthThreads>();
}
TEST(DetectorMustReport, EventDestroyedWhileItsLastUseIsUnordered) { check_case<EventDestroyedAfterRelaxedFlag>(); }
TEST(DetectorMustReport, MutexDestroyedWhileItsLastUseIsUnordered) { check_case<MutexDestroyedAfterRelaxedFlag>(); }
TEST(DetectorMustReport, MutexDestroyedWhileTheTenthFibersUseIsUnordered) {
  check_case<MutexDestroyedWhileTheTenthFibersUseIsUnordered>();
}
TEST(DetectorMustReport, SharedCellDestroyedWhileItsLastWriteIsUnordered) {
  check_case<SharedDestroyedAfterRelaxedFlag>();
}

TEST(DetectorMustReport, QueueRingSlotWithRelaxedOrders) { check_case<QueueWithRelaxedOrders>(); }
TEST(DetectorMustReport, PipeGuardedStateWithRelaxedLock) { check_case<PipeWithRelaxedLock>(); }

// The races above are on the primitives' own storage: the report names the ring slot's and the
// channel's accesses in the primitives' headers.
template <class Case>
std::string race_message() {
  const Result r = explore(options_for(Strategy::random_walk, 1), Case{});
  if (!r.failed() || r.failure->kind != FailureKind::data_race) return "no data race: " + r.report();
  return r.failure->message;
}

TEST(DetectorMustReport, RelaxedQueueRaceIsOnTheRingSlot) {
  if (kTsan) GTEST_SKIP() << "TSan reports the race itself (QueueRingSlotWithRelaxedOrders)";
  const std::string m = race_message<QueueWithRelaxedOrders>();
  EXPECT_NE(m.find("data race on a Shared<T> cell"), std::string::npos) << m;
  EXPECT_NE(m.find("interleave/detail/ring.h:"), std::string::npos) << m;
}

TEST(DetectorMustReport, RelaxedPipeRaceIsOnTheChannelState) {
  if (kTsan) GTEST_SKIP() << "TSan reports the race itself (PipeGuardedStateWithRelaxedLock)";
  const std::string m = race_message<PipeWithRelaxedLock>();
  EXPECT_NE(m.find("data race on a Shared<T> cell"), std::string::npos) << m;
  EXPECT_NE(m.find("interleave/detail/pipe_channel.h:"), std::string::npos) << m;
}

// The report names both accesses with their source lines and kinds.
TEST(DetectorMustReport, ReportNamesBothAccessesWithLocationsAndSteps) {
  int write_line = 0;
  int read_line = 0;
  Options options = options_for(Strategy::random_walk, 7);
  const Result r = explore(options, [&]<Platform P>() {
    Shared<int, P> x{0};
    BasicThread<P> t([&] {
      write_line = __LINE__ + 1;
      x.write(1);
    });
    t.start();
    read_line = __LINE__ + 1;
    (void)x.read();
    t.join();
  });
  ASSERT_TRUE(r.failed());
  ASSERT_EQ(r.failure->kind, FailureKind::data_race) << r;
  const std::string& m = r.failure->message;
  const std::string file = "detector_must_report_test.cpp:";
  EXPECT_NE(m.find(file + std::to_string(write_line)), std::string::npos) << m;
  EXPECT_NE(m.find(file + std::to_string(read_line)), std::string::npos) << m;
  EXPECT_TRUE(m.find(" writes at ") != std::string::npos || m.find(" wrote it at ") != std::string::npos) << m;
  EXPECT_TRUE(m.find(" reads at ") != std::string::npos || m.find(" read it at ") != std::string::npos) << m;
  // Replaying the token gives the same failure at the same step.
  Options replay;
  replay.replay = r.reproduce_token();
  const Result again = explore(replay, [&]<Platform P>() {
    Shared<int, P> x{0};
    BasicThread<P> t([&] { x.write(1); });
    t.start();
    (void)x.read();
    t.join();
  });
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.failure->kind, FailureKind::data_race);
  EXPECT_EQ(again.failure->step, r.failure->step);
}

// A lifetime race's report names the destroying fiber and the other fiber's last operation on the
// object, with its primitive operation and source line, and the steps of both.
TEST(DetectorMustReport, LifetimeReportNamesTheOtherFibersLastOperation) {
  if (kTsan) GTEST_SKIP() << "TSan reports the freed memory's use itself";
  int set_line = 0;
  Options options = options_for(Strategy::random_walk, 7);
  const Result r = explore(options, [&]<Platform P>() {
    auto event = std::make_unique<BasicEvent<P>>();
    typename P::template Atomic<std::uint32_t> done{0};
    BasicThread<P> t([&] {
      set_line = __LINE__ + 1;
      event->set();
      done.store(1, std::memory_order_relaxed);
    });
    t.start();
    await_relaxed<P>(done);
    event.reset();
    t.join();
  });
  ASSERT_TRUE(r.failed());
  ASSERT_EQ(r.failure->kind, FailureKind::data_race) << r;
  const std::string& m = r.failure->message;
  EXPECT_NE(m.find("an object is destroyed while another fiber's last use of it is not ordered"), std::string::npos)
      << m;
  EXPECT_NE(m.find("fiber 1 last used it (atomic "), std::string::npos) << m;
  EXPECT_NE(m.find(" in Event::set at "), std::string::npos) << m;
  EXPECT_NE(m.find("detector_must_report_test.cpp:" + std::to_string(set_line)), std::string::npos) << m;
  EXPECT_NE(m.find(") at step "), std::string::npos) << m;
}

// With the detector off the same body passes: what failed above was the detector.
TEST(DetectorMustReport, DetectorOffReportsNothing) {
  if (kTsan) GTEST_SKIP() << "TSan reports the race itself";
  const bool previous = set_race_detector(false);
  const Result r = explore(options_for(Strategy::random_walk, 1), WriteWrite{});
  (void)set_race_detector(previous);
  EXPECT_TRUE(r.passed()) << r;
}

}  // namespace
}  // namespace interleave
