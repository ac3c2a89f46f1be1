#include "interleave/queue.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "interleave/process.h"
#include "interleave/shared_memory.h"
#include "support/asleep.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

using test_support::current_tid;
using test_support::wait_until_asleep_on_futex;

// Waits until thread `tid` has published its id, then until it sleeps in the kernel (on the
// queue's futex: nothing else in these tests blocks). False if it never got there.
bool wait_until_blocked(const std::atomic<pid_t>& tid) {
  while (tid.load() == 0) std::this_thread::yield();
  return wait_until_asleep_on_futex(tid.load());
}

template <class F>
std::string message_of(F f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no exception>";
}

TEST(Queue, PutThenGetIsFifo) {
  Queue<int> q;
  for (int i = 0; i < 5; ++i) q.put(i);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(q.get(), i);
  EXPECT_TRUE(q.empty());
}

TEST(Queue, SizeEmptyAndCapacity) {
  Queue<int> unbounded;
  EXPECT_EQ(unbounded.capacity(), Queue<int>::unbounded);
  EXPECT_EQ(unbounded.capacity(), 0u);
  EXPECT_TRUE(unbounded.empty());
  EXPECT_EQ(unbounded.size(), 0u);
  unbounded.put(1);
  unbounded.put(2);
  EXPECT_FALSE(unbounded.empty());
  EXPECT_EQ(unbounded.size(), 2u);

  Queue<int> bounded(3);
  EXPECT_EQ(bounded.capacity(), 3u);
  bounded.put(7);
  EXPECT_EQ(bounded.size(), 1u);
  EXPECT_FALSE(bounded.is_closed());
}

TEST(Queue, UnboundedGrowsAcrossWrapAroundAndStaysFifo) {
  Queue<int> q;
  int next_put = 0;
  int next_get = 0;
  // Interleave puts and gets so the ring wraps, then grow it while wrapped.
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 3 + round * 7; ++i) q.put(next_put++);
    for (int i = 0; i < 2 + round * 5; ++i) ASSERT_EQ(q.get(), next_get++);
  }
  while (next_get < next_put) ASSERT_EQ(q.get(), next_get++);
  EXPECT_TRUE(q.empty());
}

TEST(Queue, MoveOnlyItems) {
  Queue<std::unique_ptr<int>> q;
  q.put(std::make_unique<int>(1));
  auto two = std::make_unique<int>(2);
  ASSERT_EQ(q.try_put(std::move(two)), QueueStatus::ok);
  EXPECT_EQ(two, nullptr);  // moved from on ok
  auto three = std::make_unique<int>(3);
  ASSERT_EQ(q.try_put_for(std::move(three), 1s), QueueStatus::ok);

  std::optional<std::unique_ptr<int>> first = q.get();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(**first, 1);
  auto second = q.try_get();
  ASSERT_TRUE(second);
  EXPECT_EQ(**second, 2);
  auto third = q.get_for(1s);
  ASSERT_TRUE(third.ok());
  std::unique_ptr<int> owned = std::move(third).value();
  EXPECT_EQ(*owned, 3);
}

TEST(Queue, RefusedMoveOnlyItemIsNotLost) {
  Queue<std::unique_ptr<int>> q(1);
  q.put(std::make_unique<int>(1));
  auto item = std::make_unique<int>(2);
  EXPECT_EQ(q.try_put(std::move(item)), QueueStatus::full);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(*item, 2);
  EXPECT_EQ(q.try_put_for(std::move(item), 5ms), QueueStatus::timed_out);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(q.try_put_for(std::move(item), 0ms), QueueStatus::full);
  ASSERT_NE(item, nullptr);
  q.close();
  EXPECT_EQ(q.try_put(std::move(item)), QueueStatus::closed);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(q.try_put_for(std::move(item), 1s), QueueStatus::closed);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(*item, 2);
}

TEST(Queue, TryPutCopiesAConstValue) {
  Queue<std::string> q(1);
  const std::string s = "hello";
  EXPECT_EQ(q.try_put(s), QueueStatus::ok);
  EXPECT_EQ(q.try_put(s), QueueStatus::full);
  EXPECT_EQ(s, "hello");
  EXPECT_EQ(q.get(), "hello");
}

TEST(Queue, TryGetTellsEmptyFromClosed) {
  Queue<int> q;
  auto r = q.try_get();
  EXPECT_FALSE(r);
  EXPECT_EQ(r.status(), QueueStatus::empty);
  EXPECT_FALSE(r.closed());
  q.put(4);
  q.close();
  auto got = q.try_get();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 4);
  EXPECT_EQ(got.value(), 4);
  auto drained = q.try_get();
  EXPECT_FALSE(drained);
  EXPECT_TRUE(drained.closed());
  EXPECT_EQ(drained.status(), QueueStatus::closed);
}

TEST(Queue, ResultValueWithoutItemThrowsNamingTheStatus) {
  Queue<int> q;
  auto r = q.try_get();
  EXPECT_THROW((void)r.value(), std::logic_error);
  EXPECT_EQ(message_of([&] { (void)r.value(); }), "QueueResult::value: no item (status empty)");
  EXPECT_FALSE(std::move(r).optional().has_value());
}

TEST(Queue, StatusNames) {
  EXPECT_STREQ(to_string(QueueStatus::ok), "ok");
  EXPECT_STREQ(to_string(QueueStatus::full), "full");
  EXPECT_STREQ(to_string(QueueStatus::empty), "empty");
  EXPECT_STREQ(to_string(QueueStatus::timed_out), "timed_out");
  EXPECT_STREQ(to_string(QueueStatus::closed), "closed");
  std::ostringstream out;
  out << QueueStatus::timed_out;
  EXPECT_EQ(out.str(), "timed_out");
}

TEST(Queue, BadCapacityIsRejected) {
  EXPECT_THROW(Queue<int>(0), std::invalid_argument);
  EXPECT_THROW(Queue<int>(-5), std::invalid_argument);
  EXPECT_EQ(message_of([] { Queue<int> q(0); }), "Queue: capacity must be >= 1, got 0");
  EXPECT_EQ(message_of([] { Queue<int> q(-5); }), "Queue: capacity must be >= 1, got -5");
  EXPECT_EQ(message_of([] { SharedQueue<int> q(-1); }), "SharedQueue: capacity must be >= 1, got -1");
  EXPECT_THROW(SharedQueue<int>(0), std::invalid_argument);
  EXPECT_THROW(SharedQueue<std::uint64_t>(PTRDIFF_MAX), std::invalid_argument);
}

TEST(Queue, NegativeTimeoutsThrow) {
  Queue<int> q(1);
  EXPECT_THROW((void)q.get_for(-1ms), std::invalid_argument);
  EXPECT_THROW((void)q.try_put_for(1, -1ns), std::invalid_argument);
  EXPECT_EQ(q.size(), 0u);  // the refused put did not happen
  EXPECT_NE(message_of([&] { (void)q.get_for(-1s); }).find("Queue::get_for: timeout must be >= 0"), std::string::npos);
}

TEST(Queue, ZeroTimeoutTriesOnce) {
  Queue<int> q(1);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(q.get_for(0s).status(), QueueStatus::empty);
  EXPECT_EQ(q.try_put_for(1, 0s), QueueStatus::ok);
  EXPECT_EQ(q.try_put_for(2, 0s), QueueStatus::full);
  auto r = q.get_for(0s);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // never blocked for long
}

TEST(Queue, GetForTimesOutWhenNothingComes) {
  Queue<int> q;
  const auto start = std::chrono::steady_clock::now();
  auto r = q.get_for(20ms);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  EXPECT_EQ(r.status(), QueueStatus::timed_out);
  EXPECT_FALSE(r.closed());
}

TEST(Queue, TryPutForTimesOutWhileFull) {
  Queue<int> q(2);
  q.put(1);
  q.put(2);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(q.try_put_for(3, 20ms), QueueStatus::timed_out);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get(), 2);
}

TEST(Queue, GetForReturnsAnItemThatArrivesInTime) {
  Queue<int> q;
  std::atomic<pid_t> getter{0};
  std::thread producer([&] {
    // Put only once the get_for is asleep, so the item arrives during the wait.
    EXPECT_TRUE(wait_until_blocked(getter));
    q.put(42);
  });
  getter = current_tid();
  const auto start = std::chrono::steady_clock::now();
  auto r = q.get_for(10s);
  // Before the deadline: woken by the put, not by a last look at expiry.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "get_for was not woken by the put";
  producer.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 42);
}

TEST(Queue, TryPutForSucceedsWhenRoomFreesInTime) {
  Queue<int> q(1);
  q.put(1);
  std::atomic<pid_t> putter{0};
  std::thread consumer([&] {
    // Get only once the try_put_for is asleep, so room frees during the wait.
    EXPECT_TRUE(wait_until_blocked(putter));
    EXPECT_EQ(q.get(), 1);
  });
  putter = current_tid();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(q.try_put_for(2, 10s), QueueStatus::ok);
  // Before the deadline: woken by the get, not by a last look at expiry.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "try_put_for was not woken by the get";
  consumer.join();
  EXPECT_EQ(q.get(), 2);
}

TEST(Queue, GetBlocksUntilPut) {
  Queue<int> q;
  std::atomic<bool> got{false};
  std::optional<int> value;
  std::atomic<pid_t> consumer_tid{0};
  std::thread consumer([&] {
    consumer_tid = current_tid();
    value = q.get();
    got = true;
  });
  EXPECT_TRUE(wait_until_blocked(consumer_tid));
  EXPECT_FALSE(got.load());
  q.put(9);
  consumer.join();
  EXPECT_EQ(value, 9);
}

TEST(Queue, PutBlocksWhileFullAndCapacityIsNeverExceeded) {
  Queue<int> q(2);
  q.put(1);
  q.put(2);
  std::atomic<bool> put_done{false};
  std::atomic<pid_t> producer_tid{0};
  std::thread producer([&] {
    producer_tid = current_tid();
    q.put(3);
    put_done = true;
  });
  EXPECT_TRUE(wait_until_blocked(producer_tid));
  EXPECT_FALSE(put_done.load());
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.get(), 1);
  producer.join();
  EXPECT_TRUE(put_done.load());
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.get(), 2);
  EXPECT_EQ(q.get(), 3);
}

TEST(Queue, CloseLetsConsumersDrainThenReportsClosed) {
  Queue<int> q;
  q.put(1);
  q.put(2);
  q.close();
  EXPECT_TRUE(q.is_closed());
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get_for(1s).value(), 2);
  EXPECT_EQ(q.get(), std::nullopt);
  EXPECT_EQ(q.get(), std::nullopt);
  EXPECT_TRUE(q.get_for(1s).closed());
  EXPECT_TRUE(q.try_get().closed());
}

TEST(Queue, PutAfterCloseThrows) {
  Queue<int> q;
  q.close();
  EXPECT_THROW(q.put(1), QueueClosed);
  EXPECT_EQ(message_of([&] { q.put(1); }), "Queue::put: the queue was closed");
  EXPECT_EQ(q.try_put(1), QueueStatus::closed);
  EXPECT_EQ(q.try_put_for(1, 0s), QueueStatus::closed);
  EXPECT_EQ(q.size(), 0u);
  static_assert(std::is_base_of_v<std::logic_error, QueueClosed>);
}

TEST(Queue, CloseTwiceThrows) {
  Queue<int> q;
  q.close();
  EXPECT_THROW(q.close(), std::logic_error);
  EXPECT_EQ(message_of([&] { q.close(); }), "Queue::close: already closed");
  EXPECT_TRUE(q.is_closed());
}

// A thread the test awaits for a bounded time, so that a blocked thread close() fails to wake
// fails the test fast instead of hanging it: finished_by() then reports false and leaves the
// thread behind, detached. Its function must therefore own what it uses (shared pointers), never
// the test's stack.
class AwaitedThread {
 public:
  template <class F>
  explicit AwaitedThread(F f) {
    std::packaged_task<void()> task(std::move(f));
    done_ = task.get_future();
    thread_ = std::thread(std::move(task));
  }
  AwaitedThread(const AwaitedThread&) = delete;
  AwaitedThread& operator=(const AwaitedThread&) = delete;
  ~AwaitedThread() {
    if (thread_.joinable()) thread_.detach();  // a test that stopped early: never block here
  }
  // True once the function has returned (then the thread is joined and its exception rethrown);
  // false if it is still running at `deadline` (the thread is detached).
  bool finished_by(std::chrono::steady_clock::time_point deadline) {
    if (done_.wait_until(deadline) != std::future_status::ready) {
      thread_.detach();
      return false;
    }
    thread_.join();
    done_.get();
    return true;
  }

 private:
  std::future<void> done_;
  std::thread thread_;
};

// Far longer than a wake-up takes, far shorter than the 100 s timed waits below: every woken
// thread must have finished this long after close().
constexpr auto kWakeBound = 10s;

TEST(Queue, CloseWakesBlockedGetters) {
  struct State {
    Queue<int> q;
    std::atomic<int> closed_seen{0};
    std::array<std::atomic<pid_t>, 3> tids{};
  };
  const auto s = std::make_shared<State>();
  std::vector<std::unique_ptr<AwaitedThread>> getters;
  for (std::size_t i = 0; i < 2; ++i) {
    getters.push_back(std::make_unique<AwaitedThread>([s, i] {
      s->tids[i] = current_tid();
      if (!s->q.get().has_value()) ++s->closed_seen;
    }));
  }
  getters.push_back(std::make_unique<AwaitedThread>([s] {
    s->tids[2] = current_tid();
    if (s->q.get_for(100s).closed()) ++s->closed_seen;
  }));
  for (const auto& tid : s->tids) ASSERT_TRUE(wait_until_blocked(tid));
  EXPECT_EQ(s->closed_seen.load(), 0);
  s->q.close();
  const auto deadline = std::chrono::steady_clock::now() + kWakeBound;
  const char* names[] = {"get() of getter 0", "get() of getter 1", "get_for(100s)"};
  for (std::size_t i = 0; i < getters.size(); ++i) {
    EXPECT_TRUE(getters[i]->finished_by(deadline))
        << "close() did not wake the blocked " << names[i] << " within " << kWakeBound.count() << " s";
  }
  EXPECT_EQ(s->closed_seen.load(), 3);
}

TEST(Queue, CloseWakesBlockedPuttersAndRefusesThem) {
  struct State {
    Queue<std::unique_ptr<int>> q{1};
    std::atomic<bool> put_threw{false};
    std::atomic<QueueStatus> timed_status{QueueStatus::ok};
    std::unique_ptr<int> kept = std::make_unique<int>(7);
    std::atomic<pid_t> putter_tid{0};
    std::atomic<pid_t> timed_putter_tid{0};
  };
  const auto s = std::make_shared<State>();
  s->q.put(std::make_unique<int>(0));
  AwaitedThread putter([s] {
    s->putter_tid = current_tid();
    try {
      s->q.put(std::make_unique<int>(1));
    } catch (const QueueClosed&) {
      s->put_threw = true;
    }
  });
  AwaitedThread timed_putter([s] {
    s->timed_putter_tid = current_tid();
    s->timed_status = s->q.try_put_for(std::move(s->kept), 100s);
  });
  ASSERT_TRUE(wait_until_blocked(s->putter_tid));
  ASSERT_TRUE(wait_until_blocked(s->timed_putter_tid));
  EXPECT_FALSE(s->put_threw.load());
  s->q.close();
  const auto deadline = std::chrono::steady_clock::now() + kWakeBound;
  ASSERT_TRUE(putter.finished_by(deadline)) << "close() did not wake the blocked put() within 10 s";
  ASSERT_TRUE(timed_putter.finished_by(deadline)) << "close() did not wake the blocked try_put_for(100s) within 10 s";
  EXPECT_TRUE(s->put_threw.load());
  EXPECT_EQ(s->timed_status.load(), QueueStatus::closed);
  ASSERT_NE(s->kept, nullptr);  // refused, so not moved from
  EXPECT_EQ(*s->kept, 7);
  // The item queued before close is still delivered.
  auto first = s->q.get();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(**first, 0);
  EXPECT_EQ(s->q.get(), std::nullopt);
}

TEST(Queue, BlockedGetterDrainsItemsPutJustBeforeClose) {
  Queue<int> q;
  std::vector<int> got;
  std::thread consumer([&] {
    while (auto v = q.get()) got.push_back(*v);
  });
  for (int i = 0; i < 100; ++i) q.put(i);
  q.close();
  consumer.join();
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
}

TEST(Queue, PutHappensBeforeGetReturns) {
  // Plain data written before put is visible after get (ThreadSanitizer checks the edge).
  struct Payload {
    int a = 0;
    std::string b;
  };
  Queue<Payload*> q(1);
  Payload payloads[50];
  std::thread producer([&] {
    for (int i = 0; i < 50; ++i) {
      payloads[i].a = i;
      payloads[i].b = std::to_string(i);
      q.put(&payloads[i]);
    }
  });
  for (int i = 0; i < 50; ++i) {
    Payload* p = *q.get();
    EXPECT_EQ(p->a, i);
    EXPECT_EQ(p->b, std::to_string(i));
  }
  producer.join();
}

TEST(Queue, DestroyingAQueueDestroysItsItems) {
  auto tracked = std::make_shared<int>(0);
  {
    Queue<std::shared_ptr<int>> q;
    for (int i = 0; i < 40; ++i) q.put(tracked);
    (void)q.get();
    EXPECT_EQ(tracked.use_count(), 40);
  }
  EXPECT_EQ(tracked.use_count(), 1);
}

TEST(SharedQueue, WorksWithinOneProcess) {
  SharedQueue<int> q(2);
  EXPECT_EQ(q.capacity(), 2u);
  EXPECT_EQ(SharedQueue<int>().capacity(), 1024u);
  q.put(1);
  EXPECT_EQ(q.try_put(2), QueueStatus::ok);
  EXPECT_EQ(q.try_put(3), QueueStatus::full);
  EXPECT_EQ(q.try_put_for(3, 5ms), QueueStatus::timed_out);
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.try_get().value(), 2);
  EXPECT_EQ(q.try_get().status(), QueueStatus::empty);
  EXPECT_EQ(q.get_for(5ms).status(), QueueStatus::timed_out);
  EXPECT_TRUE(q.empty());
  q.close();
  EXPECT_TRUE(q.is_closed());
  EXPECT_THROW(q.put(4), QueueClosed);
  EXPECT_EQ(message_of([&] { q.close(); }), "SharedQueue::close: already closed");
  EXPECT_EQ(q.get(), std::nullopt);
}

// The Python multiprocessing tutorial: one process puts 0..4, another gets them in order.
TEST(SharedQueue, ProducerProcessToConsumerProcess) {
  SharedQueue<int> q(2);  // small, so the producer blocks on a full queue across processes
  SharedObject<std::array<int, 5>> received;
  Process producer(
      [&] {
        for (int i = 0; i < 5; ++i) q.put(i);
      },
      "producer");
  Process consumer(
      [&]() -> int {
        for (int i = 0; i < 5; ++i) {
          const std::optional<int> v = q.get();
          if (!v) return 2;
          (*received)[static_cast<std::size_t>(i)] = *v;
        }
        return 0;
      },
      "consumer");
  consumer.start();
  producer.start();
  EXPECT_TRUE(producer.join().success());
  EXPECT_TRUE(consumer.join().success());
  EXPECT_EQ(*received, (std::array<int, 5>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace interleave
