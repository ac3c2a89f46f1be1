#include "interleave/condition.h"

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "interleave/mutex.h"
#include "interleave/process.h"
#include "interleave/process_condition.h"
#include "interleave/shared_memory.h"
#include "support/asleep.h"
#include "support/child_process.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

TEST(Condition, WaitWithPredicateReturnsOnceTheStateChanged) {
  Mutex m;
  Condition c;
  bool ready = false;
  std::thread waiter([&] {
    std::unique_lock lock(m);
    c.wait(lock, [&] { return ready; });
    EXPECT_TRUE(ready);
  });
  {
    std::lock_guard g(m);
    ready = true;
  }
  c.notify_one();
  waiter.join();
}

TEST(Condition, WorksWithAMutexDirectlyAndWithStdMutex) {
  Mutex m;
  std::mutex sm;
  Condition c;
  bool first = false;   // guarded by m
  bool second = false;  // guarded by sm: one flag per lock, or the two phases race on it
  std::thread waiter([&] {
    m.lock();
    c.wait(m, [&] { return first; });
    m.unlock();
    std::unique_lock lock(sm);
    c.wait(lock, [&] { return second; });
  });
  {
    std::lock_guard g(m);
    first = true;
  }
  c.notify_all();
  {
    std::lock_guard g(sm);
    second = true;
  }
  c.notify_all();
  waiter.join();
  EXPECT_TRUE(first && second);
}

TEST(Condition, NotifyOneWakesExactlyOneOfThreeSleepers) {
  Mutex m;
  Condition c;
  std::atomic<int> woken{0};
  std::vector<std::atomic<pid_t>> ids(3);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      std::unique_lock lock(m);
      ids[i] = test_support::current_tid();
      c.wait(lock);  // no predicate: returns only when notified (no spurious wake-ups)
      woken.fetch_add(1);
    });
  }
  for (auto& id : ids) {
    while (id.load() == 0) std::this_thread::yield();
    ASSERT_TRUE(test_support::wait_until_asleep_on_futex(id.load()));
  }
  c.notify_one();
  while (woken.load() == 0) std::this_thread::yield();
  {
    // A second thread woken by the same notify would be counted once it gets the lock; the model
    // properties check this on every interleaving, here it is one sample.
    std::lock_guard g(m);
    EXPECT_EQ(woken.load(), 1);
  }
  c.notify_all();
  for (auto& t : threads) t.join();
  EXPECT_EQ(woken.load(), 3);
}

TEST(Condition, WaitForTimesOutWithoutANotify) {
  Mutex m;
  Condition c;
  std::unique_lock lock(m);
  EXPECT_FALSE(c.wait_for(lock, 5ms));
  EXPECT_TRUE(lock.owns_lock());
  EXPECT_FALSE(c.wait_for(lock, 0ms));
  EXPECT_FALSE(c.wait_for(lock, 1ms, [] { return false; }));
  EXPECT_TRUE(c.wait_for(lock, 1ms, [] { return true; }));
}

TEST(Condition, WaitUntilAcceptsAnyClockAndPastDeadlines) {
  Mutex m;
  Condition c;
  std::unique_lock lock(m);
  EXPECT_FALSE(c.wait_until(lock, std::chrono::steady_clock::now() - 1h));
  EXPECT_FALSE(c.wait_until(lock, std::chrono::system_clock::now() + 2ms));
  EXPECT_TRUE(lock.owns_lock());
}

TEST(Condition, WaitForReturnsTrueWhenNotified) {
  Mutex m;
  Condition c;
  std::atomic<pid_t> waiter_id{0};
  bool notified = false;
  std::thread waiter([&] {
    std::unique_lock lock(m);
    waiter_id = test_support::current_tid();
    notified = c.wait_for(lock, 1h);
  });
  while (waiter_id.load() == 0) std::this_thread::yield();
  ASSERT_TRUE(test_support::wait_until_asleep_on_futex(waiter_id.load()));
  {
    std::lock_guard g(m);  // taken only once the waiter released it inside wait_for
    c.notify_one();
  }
  waiter.join();
  EXPECT_TRUE(notified);
}

TEST(Condition, NegativeTimeoutIsRejectedAndTheLockStaysHeld) {
  Mutex m;
  Condition c;
  std::unique_lock lock(m);
  EXPECT_THROW((void)c.wait_for(lock, -1ms), std::invalid_argument);
  EXPECT_TRUE(lock.owns_lock());
}

TEST(Condition, NotifyWithoutWaitersDoesNothing) {
  Condition c;
  c.notify_one();
  c.notify_all();
}

// Two producers and two consumers hand over 10000 items through one mutex and condition.
template <class ConditionT>
void hand_over_every_item() {
  Mutex m;
  ConditionT c;
  int items = 0;
  int consumed = 0;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        {
          std::lock_guard g(m);
          ++items;
        }
        c.notify_one();
      }
    });
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        std::unique_lock lock(m);
        c.wait(lock, [&] { return items > 0; });
        --items;
        ++consumed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(consumed, 2 * kPerThread);
  EXPECT_EQ(items, 0);
}

TEST(ConditionStress, ProducersAndConsumersHandOverEveryItem) { hand_over_every_item<Condition>(); }

// --- ProcessCondition: no pointers in its state, so it works between processes ---------------

TEST(ProcessCondition, AWaiterInAnotherProcessIsWokenByNotifyOne) {
  struct State {
    ProcessMutex m;
    ProcessCondition c;
    int ready = 0;  // guarded by m
  };
  SharedObject<State> state;
  Process waiter(
      [&]() -> int {
        std::unique_lock lock(state->m);
        state->c.wait(lock, [&] { return state->ready == 1; });
        return 0;
      },
      "waiter");
  waiter.start();
  // Asleep in the wait (or, before it, on the mutex the parent does not hold: then it will wait).
  ASSERT_TRUE(test_support::wait_until_asleep_on_futex(waiter.pid()));
  {
    std::lock_guard g(state->m);
    state->ready = 1;
  }
  state->c.notify_one();  // a process-private wake would not reach the child
  test_support::expect_success_within_10s(waiter);
}

TEST(ProcessCondition, NotifyAllWakesWaitersInTwoProcesses) {
  struct State {
    ProcessMutex m;
    ProcessCondition c;
    std::atomic<int> waiting{0};
    int released = 0;  // guarded by m
  };
  SharedObject<State> state;
  const auto waiter = [&]() -> int {
    std::unique_lock lock(state->m);
    state->waiting.fetch_add(1);
    state->c.wait(lock);  // no predicate: returns only when notified
    return state->released == 1 ? 0 : 2;
  };
  Process a(waiter, "waiter a");
  Process b(waiter, "waiter b");
  a.start();
  b.start();
  ASSERT_TRUE(test_support::wait_for_value(state->waiting, 2));
  ASSERT_TRUE(test_support::wait_until_asleep_on_futex(a.pid()));
  ASSERT_TRUE(test_support::wait_until_asleep_on_futex(b.pid()));
  {
    std::lock_guard g(state->m);  // taken only once both released it inside wait
    state->released = 1;
    state->c.notify_all();
  }
  test_support::expect_success_within_10s(a);
  test_support::expect_success_within_10s(b);
}

TEST(ProcessCondition, NotifyOneWakesTheLongestWaitingFirst) {
  Mutex m;
  BasicProcessCondition<NativePlatform, 4> c;
  std::vector<int> order;  // guarded by m
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    std::atomic<pid_t> id{0};
    threads.emplace_back([&, i] {
      std::unique_lock lock(m);
      id = test_support::current_tid();
      c.wait(lock);
      order.push_back(i);
    });
    while (id.load() == 0) std::this_thread::yield();
    ASSERT_TRUE(test_support::wait_until_asleep_on_futex(id.load()));  // queued before the next
  }
  for (int i = 0; i < 3; ++i) {
    {
      std::lock_guard g(m);
      c.notify_one();
    }
    // Wait for the woken thread to record itself before the next notify.
    while (true) {
      std::lock_guard g(m);
      if (order.size() == static_cast<std::size_t>(i) + 1) break;
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

TEST(ProcessCondition, AWaitBeyondItsSlotsThrowsAndTheLockStaysHeld) {
  Mutex m;
  BasicProcessCondition<NativePlatform, 1> c;
  EXPECT_EQ(c.capacity(), 1U);
  std::atomic<pid_t> id{0};
  bool woken = false;
  std::thread first([&] {
    std::unique_lock lock(m);
    id = test_support::current_tid();
    c.wait(lock);
    woken = true;
  });
  while (id.load() == 0) std::this_thread::yield();
  ASSERT_TRUE(test_support::wait_until_asleep_on_futex(id.load()));
  {
    std::unique_lock lock(m);  // taken only once the first waiter released it inside wait
    try {
      c.wait(lock);
      ADD_FAILURE() << "a second waiter found a slot in a condition of one";
    } catch (const std::length_error& e) {
      EXPECT_NE(std::string(e.what()).find("1 waiters are waiting already"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(lock.owns_lock());
    EXPECT_THROW((void)c.wait_for(lock, 1h), std::length_error);
    c.notify_one();
  }
  first.join();
  EXPECT_TRUE(woken);
  // The slot is free again.
  std::unique_lock lock(m);
  EXPECT_FALSE(c.wait_for(lock, 1ms));
  EXPECT_FALSE(c.wait_for(lock, 0ms));
}

TEST(ProcessCondition, TimeoutsAndPredicatesBehaveAsCondition) {
  Mutex m;
  ProcessCondition c;
  std::unique_lock lock(m);
  EXPECT_FALSE(c.wait_for(lock, 5ms));
  EXPECT_TRUE(lock.owns_lock());
  EXPECT_FALSE(c.wait_until(lock, std::chrono::steady_clock::now() - 1h));
  EXPECT_FALSE(c.wait_until(lock, std::chrono::system_clock::now() + 2ms));
  EXPECT_FALSE(c.wait_for(lock, 1ms, [] { return false; }));
  EXPECT_TRUE(c.wait_for(lock, 1ms, [] { return true; }));
  EXPECT_THROW((void)c.wait_for(lock, -1ms), std::invalid_argument);
  EXPECT_TRUE(lock.owns_lock());
  lock.unlock();
  c.notify_one();  // nobody waiting: nothing happens
  c.notify_all();
}

TEST(ProcessConditionStress, ProducersAndConsumersInThreadsHandOverEveryItem) {
  hand_over_every_item<ProcessCondition>();
}

}  // namespace
}  // namespace interleave
