#include "interleave/thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "interleave/mutex.h"

namespace interleave {
namespace {

TEST(Thread, RunsTargetBetweenStartAndJoin) {
  std::atomic<int> runs{0};
  Thread t([&] { runs.fetch_add(1); });
  EXPECT_FALSE(t.started());
  EXPECT_EQ(runs.load(), 0);  // constructing does not start it
  t.start();
  t.join();
  EXPECT_TRUE(t.joined());
  EXPECT_EQ(runs.load(), 1);
}

TEST(Thread, WritesBeforeStartAreVisibleToTargetAndTargetWritesAfterJoin) {
  int before = 0;
  int seen = -1;
  int written = 0;
  Thread t([&] {
    seen = before;
    written = 42;
  });
  before = 7;
  t.start();
  t.join();
  EXPECT_EQ(seen, 7);
  EXPECT_EQ(written, 42);
}

TEST(Thread, ExceptionFromTargetIsRethrownByJoin) {
  Thread t([] { throw std::runtime_error("boom in target"); });
  t.start();
  try {
    t.join();
    FAIL() << "join did not rethrow";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom in target");
  }
}

TEST(Thread, MisuseIsRejected) {
  EXPECT_THROW(Thread(std::function<void()>{}), std::invalid_argument);
  Thread t([] {});
  EXPECT_THROW(t.join(), std::logic_error);  // never started
  t.start();
  EXPECT_THROW(t.start(), std::logic_error);  // started twice
  t.join();
  EXPECT_THROW(t.join(), std::logic_error);  // joined twice
}

TEST(Thread, DestructorJoinsAStartedThread) {
  std::atomic<bool> finished{false};
  {
    Thread t([&] { finished.store(true); });
    t.start();
  }
  EXPECT_TRUE(finished.load());
}

TEST(Thread, TutorialCounterWithLockIsTwoThousand) {
  Mutex lock;
  int counter = 0;
  auto increment = [&] {
    std::lock_guard guard(lock);
    for (int i = 0; i < 1000; ++i) ++counter;
  };
  Thread t1(increment);
  Thread t2(increment);
  t1.start();
  t2.start();
  t1.join();
  t2.join();
  EXPECT_EQ(counter, 2000);
}

}  // namespace
}  // namespace interleave
