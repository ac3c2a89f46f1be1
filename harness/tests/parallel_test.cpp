// Parallel and sharded exploration: any job count reports the same failure (the lowest failing
// schedule index) and runs the same schedules; shards split the indices between them; the
// progress line appears only when asked for or on a terminal.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "interleave/explore.h"
#include "interleave/gtest.h"
#include "interleave/mutex.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

// Three threads each add one to a counter with a separate load and store; the check fails only
// when two updates are lost (all three loads before any store), which happens in some schedules
// only, so the first failing schedule index depends on the seed.
struct RacyCounter {
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<int> counter{0};
    auto add = [&] { counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); };
    BasicThread<P> a(add), b(add), c(add);
    a.start();
    b.start();
    c.start();
    a.join();
    b.join();
    c.join();
    INTERLEAVE_ASSERT(counter.load() >= 2);
  }
};

struct LockedCounter {
  template <Platform P>
  void operator()() const {
    BasicMutex<P> lock;
    int counter = 0;
    auto add = [&] {
      for (int i = 0; i < 3; ++i) {
        std::lock_guard guard(lock);
        ++counter;
      }
    };
    BasicThread<P> a(add), b(add);
    a.start();
    b.start();
    a.join();
    b.join();
    INTERLEAVE_ASSERT(counter == 6);
  }
};

Options options(Strategy strategy, unsigned jobs, std::uint64_t seed) {
  Options o;
  o.strategy = strategy;
  o.jobs = jobs;
  o.seed = seed;
  o.schedules = 2000;
  return o;
}

void expect_same_failure(const Result& one, const Result& other) {
  ASSERT_TRUE(one.failed());
  ASSERT_TRUE(other.failed()) << other;
  EXPECT_EQ(one.schedule, other.schedule);
  EXPECT_EQ(one.schedules_run, other.schedules_run);
  EXPECT_EQ(one.steps, other.steps);
  EXPECT_EQ(one.preemptions, other.preemptions);
  EXPECT_EQ(one.failure->kind, other.failure->kind);
  EXPECT_EQ(one.failure->message, other.failure->message);
  EXPECT_EQ(one.reproduce, other.reproduce);
}

TEST(Parallel, EveryJobCountReportsTheLowestFailingSchedule) {
  for (const Strategy strategy : {Strategy::random_walk, Strategy::pct, Strategy::portfolio}) {
    int later_than_first = 0;
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      const Result one = explore(options(strategy, 1, seed), RacyCounter{});
      ASSERT_TRUE(one.failed()) << "seed " << seed;
      if (one.schedules_run > 1) ++later_than_first;
      for (unsigned jobs : {2U, 3U, 8U}) {
        SCOPED_TRACE(testing::Message() << to_string(strategy) << " seed " << seed << " jobs " << jobs);
        expect_same_failure(one, explore(options(strategy, jobs, seed), RacyCounter{}));
      }
    }
    // Not a vacuous check: some seeds fail only after several passing schedules, which the other
    // jobs run (and pass) in parallel.
    EXPECT_GT(later_than_first, 0) << to_string(strategy);
  }
}

TEST(Parallel, PassingExplorationRunsTheSameSchedulesWithAnyJobCount) {
  for (const Strategy strategy : {Strategy::random_walk, Strategy::pct, Strategy::portfolio}) {
    const Result one = explore(options(strategy, 1, 7), LockedCounter{});
    ASSERT_TRUE(one.passed()) << one;
    EXPECT_EQ(one.schedules_run, 2000U);
    for (unsigned jobs : {2U, 4U}) {
      const Result many = explore(options(strategy, jobs, 7), LockedCounter{});
      ASSERT_TRUE(many.passed()) << many;
      EXPECT_EQ(many.schedules_run, 2000U);
      EXPECT_EQ(many.total_steps, one.total_steps) << to_string(strategy) << " jobs " << jobs;
      EXPECT_EQ(many.schedule, one.schedule);
    }
  }
}

TEST(Parallel, JobsRunOnSeveralThreads) {
  std::mutex mutex;  // real ones: the body runs on two threads at once
  std::condition_variable entered;
  std::set<std::thread::id> threads;
  Options o = options(Strategy::random_walk, 2, 1);
  const Result r = explore(o, [&]<Platform P>() {
    {
      std::unique_lock lock(mutex);
      threads.insert(std::this_thread::get_id());
      entered.notify_all();
      // The first schedule holds its job until the other job has taken a schedule too (bounded,
      // so that a search that never starts the second job fails the check below, not the run).
      entered.wait_for(lock, std::chrono::seconds(10), [&] { return threads.size() >= 2; });
    }
    LockedCounter{}.operator()<P>();
  });
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_EQ(threads.size(), 2U);
}

TEST(Parallel, GoogleTestAssertionsOnEveryJobFailTheSchedule) {
  Options o = options(Strategy::random_walk, 2, 3);
  int body_runs = 0;
  std::mutex mutex;
  const Result r = explore_test(o, [&]<Platform P>() {
    typename P::template Atomic<int> counter{0};
    auto add = [&] { counter.store(counter.load() + 1); };
    BasicThread<P> a(add), b(add);
    a.start();
    b.start();
    a.join();
    b.join();
    {
      std::lock_guard guard(mutex);
      ++body_runs;
    }
    EXPECT_EQ(counter.load(), 2) << "an update was lost";
  });
  ASSERT_TRUE(r.failed());
  EXPECT_NE(r.failure->message.find("an update was lost"), std::string::npos) << r;
  EXPECT_GT(body_runs, 1);
}

TEST(Sharding, ShardsSplitTheScheduleIndicesBetweenThem) {
  const Result whole = explore(options(Strategy::random_walk, 1, 5), RacyCounter{});
  ASSERT_TRUE(whole.failed());
  const std::uint64_t failing = whole.schedule.index;
  for (std::uint64_t shards : {2U, 3U}) {
    for (std::uint64_t shard = 0; shard < shards; ++shard) {
      Options o = options(Strategy::random_walk, 2, 5);
      o.shard_count = shards;
      o.shard_index = shard;
      const Result r = explore(o, RacyCounter{});
      SCOPED_TRACE(testing::Message() << "shard " << shard << " of " << shards << ", failing index " << failing);
      ASSERT_TRUE(r.failed());
      EXPECT_EQ(r.schedule.index % shards, shard);
      if (shard == failing % shards) {
        // The shard holding the lowest failing index finds that very schedule.
        EXPECT_EQ(r.schedule, whole.schedule);
        EXPECT_EQ(r.schedules_run, failing / shards + 1);
      } else {
        EXPECT_GT(r.schedule.index, failing);
      }
    }
  }
  // A passing exploration runs each shard's share, together every index once.
  std::uint64_t together = 0;
  for (std::uint64_t shard = 0; shard < 3; ++shard) {
    Options o = options(Strategy::random_walk, 2, 5);
    o.schedules = 100;
    o.shard_count = 3;
    o.shard_index = shard;
    const Result r = explore(o, LockedCounter{});
    EXPECT_TRUE(r.passed()) << r;
    together += r.schedules_run;
  }
  EXPECT_EQ(together, 100U);
}

// Run by CTest with GTEST_TOTAL_SHARDS=3 GTEST_SHARD_INDEX=2 (see CMakeLists.txt): interleave's
// main takes sharding over from GoogleTest, so this test runs in every shard, on a third of the
// schedules.
TEST(Sharding, TakenOverFromGoogleTestByInterleavesMain) {
  Options o;
  o.apply_environment();
  if (o.shard_count == 1) GTEST_SKIP() << "runs only under GTEST_TOTAL_SHARDS (its own CTest entry)";
  EXPECT_EQ(std::getenv("GTEST_TOTAL_SHARDS"), nullptr);
  EXPECT_EQ(o.shard_count, 3U);
  EXPECT_EQ(o.shard_index, 2U);
  o.schedules = 10;
  const Result r = explore_test(o, LockedCounter{});
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_EQ(r.schedules_run, 3U);  // indices 2, 5 and 8
}

// A fake clock for the progress line: every reading is 300 ms after the previous one. The line
// reads it once when the exploration starts and once per finished schedule, so schedule k ends at
// 0.3 k s: the first line is due (2 s) after the seventh.
std::atomic<std::int64_t> g_fake_ns{0};
std::chrono::steady_clock::time_point advancing_clock() {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(g_fake_ns.fetch_add(300'000'000)));
}
std::chrono::steady_clock::time_point stopped_clock() { return std::chrono::steady_clock::time_point(); }

// Explores 12 quick schedules with the progress line in `mode`, reading `clock`; returns stderr.
std::string progress_output(Progress mode, detail::ProgressClock clock) {
  g_fake_ns = 0;
  const detail::ProgressClock previous = detail::set_progress_clock(clock);
  Options o = options(Strategy::random_walk, 1, 1);
  o.schedules = 12;
  o.progress = mode;
  testing::internal::CaptureStderr();
  const Result r = explore(o, LockedCounter{});
  std::string err = testing::internal::GetCapturedStderr();
  (void)detail::set_progress_clock(previous);
  EXPECT_TRUE(r.passed()) << r;
  return err;
}

TEST(Progress, ALongExplorationPrintsAProgressLineWhenAsked) {
  // stderr is captured, not a terminal: one line at 2.1 s (the next would be due 5 s later).
  const std::string on = progress_output(Progress::on, &advancing_clock);
  EXPECT_NE(on.find("interleave: 7/12 schedules, 3/s, 0 failing, 2.1 s\n"), std::string::npos) << on;
  EXPECT_EQ(on.find("interleave: ", on.find("interleave: ") + 1), std::string::npos) << on;
  // off, and automatic when stderr is not a terminal (here: captured): nothing.
  EXPECT_EQ(progress_output(Progress::off, &advancing_clock), "");
  EXPECT_EQ(progress_output(Progress::automatic, &advancing_clock), "");
}

// The clock decides: an exploration that takes no time by it prints no line, however many
// schedules it runs.
TEST(Progress, NoLineBeforeTwoSecondsByTheClock) { EXPECT_EQ(progress_output(Progress::on, &stopped_clock), ""); }

}  // namespace
}  // namespace interleave
