// Plain std:: code under interleave, from the installed package: compiled with the compiler's
// ThreadSanitizer instrumentation and linked against interleave::std_runtime
// (interleave_model_test in CMakeLists.txt; docs/std.md in interleave).
#include <gtest/gtest.h>
#include <interleave/explore.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace {

class BlockingQueue {
 public:
  void put(int value) {
    {
      const std::lock_guard lock(mutex_);
      items_.push_back(value);
    }
    ready_.notify_one();
  }
  int get() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !items_.empty(); });
    const int value = items_.front();
    items_.pop_front();
    return value;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<int> items_;
};

// README.md's first example, as it stands there.
TEST(Counter, LockedIncrementsAddUp) {
  interleave::Options options;
  options.schedules = 100;
  const interleave::Result r = interleave::explore(options, [] {
    std::mutex lock;
    int counter = 0;
    auto work = [&] {
      for (int i = 0; i < 1000; ++i) {
        const std::lock_guard guard(lock);
        ++counter;
      }
    };
    std::thread a(work);
    std::thread b(work);
    a.join();
    b.join();
    INTERLEAVE_ASSERT(counter == 2000, "an increment was lost");
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdQueue, ItemsArriveInOrderOnEverySchedule) {
  interleave::Options options;
  options.schedules = 200;
  const interleave::Result r = interleave::explore(options, [] {
    BlockingQueue queue;
    std::thread producer([&] {
      for (int i = 0; i < 3; ++i) queue.put(i);
    });
    for (int i = 0; i < 3; ++i) INTERLEAVE_ASSERT(queue.get() == i);
    producer.join();
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdQueue, AnUnlockedCounterIsReportedAsADataRace) {
  const interleave::Result r = interleave::explore(interleave::Options{}, [] {
    int counter = 0;
    std::thread other([&] { ++counter; });
    ++counter;
    other.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, interleave::FailureKind::data_race) << r;
  // At this file's lines, though the build is optimized (interleave_model_test adds -g).
  EXPECT_NE(r.failure->message.find("std_queue_test.cpp:"), std::string::npos) << r;
}

}  // namespace
