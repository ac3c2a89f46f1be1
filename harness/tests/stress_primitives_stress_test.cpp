// The production primitives, unchanged, on real threads and real processes of the Perturbed
// platform (interleave::stress): their invariants hold under seeded random delays on 2-8 threads,
// and Queue and Pipe keep them between processes. Each test is bounded in time.
#include "interleave/stress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "interleave/event.h"
#include "interleave/gtest.h"
#include "interleave/mutex.h"
#include "interleave/pipe.h"
#include "interleave/queue.h"
#include "interleave/semaphore.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

// At most `iterations`, and no new one after `milliseconds`: the whole file stays within a few
// seconds, ThreadSanitizer included.
Options budget(std::uint64_t iterations = 40, std::uint64_t milliseconds = 400) {
  Options o;
  o.stress_iterations = iterations;
  o.stress_milliseconds = milliseconds;
  o.perturbation = Perturbation::heavy();
  return o;
}

template <class Body>
StressResult run(Options options, Body&& body) {
  return stress(std::move(options), std::forward<Body>(body), detail::current_test_command());
}

#define EXPECT_STRESS_PASSES(result_expression)                            \
  do {                                                                     \
    const ::interleave::StressResult stress_result_ = (result_expression); \
    EXPECT_TRUE(stress_result_.passed()) << stress_result_.report();       \
    EXPECT_GE(stress_result_.iterations_run, 1U);                          \
  } while (false)

template <Platform P>
using Threads = std::vector<std::unique_ptr<BasicThread<P>>>;

template <Platform P, class F>
void start_threads(Threads<P>& threads, int n, F make) {
  for (int t = 0; t < n; ++t) threads.push_back(std::make_unique<BasicThread<P>>(make(t)));
  for (auto& t : threads) t->start();
}

template <Platform P>
void join_threads(Threads<P>& threads) {
  for (auto& t : threads) t->join();
}

class OnThreads : public ::testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Threads, OnThreads, ::testing::Values(2, 4, 8),
                         [](const auto& param_info) { return std::to_string(param_info.param) + "threads"; });

TEST_P(OnThreads, MutexCounterReaches2000) {
  const int n = GetParam();
  EXPECT_STRESS_PASSES(run(budget(), [n]<Platform P>() {
    BasicMutex<P> lock;
    int counter = 0;
    Threads<P> threads;
    start_threads<P>(threads, n, [&](int) {
      return [&] {
        for (int i = 0; i < 2000 / n; ++i) {
          lock.lock();
          ++counter;
          lock.unlock();
        }
      };
    });
    join_threads<P>(threads);
    INTERLEAVE_ASSERT(counter == 2000 / n * n);
  }));
}

TEST_P(OnThreads, SemaphoreHoldersNeverExceedPermits) {
  const int n = GetParam();
  EXPECT_STRESS_PASSES(run(budget(), [n]<Platform P>() {
    constexpr int kPermits = 2;
    BasicSemaphore<P> permits(kPermits);
    typename P::template Atomic<int> holders{0};
    Threads<P> threads;
    start_threads<P>(threads, n, [&](int) {
      return [&] {
        for (int i = 0; i < 50; ++i) {
          permits.acquire();
          INTERLEAVE_ASSERT(holders.fetch_add(1) + 1 <= kPermits);
          P::yield();
          holders.fetch_sub(1);
          permits.release();
        }
      };
    });
    join_threads<P>(threads);
    INTERLEAVE_ASSERT(permits.value() == kPermits);
  }));
}

TEST_P(OnThreads, EventReleasesEveryWaiter) {
  const int n = GetParam();
  EXPECT_STRESS_PASSES(run(budget(), [n]<Platform P>() {
    BasicEvent<P> go;
    typename P::template Atomic<int> released{0};
    Threads<P> threads;
    // n - 1 waiters; a lost wake-up shows as a timed-out wait (not as a hang).
    start_threads<P>(threads, n - 1, [&](int) {
      return [&] {
        INTERLEAVE_ASSERT(go.wait_for(10s));
        released.fetch_add(1);
      };
    });
    P::yield();
    go.set();
    join_threads<P>(threads);
    INTERLEAVE_ASSERT(released.load() == n - 1);
  }));
}

struct Item {
  std::uint32_t producer;
  std::uint32_t sequence;
};

// Every consumer saw each producer's items in increasing order; together, all items once.
bool fifo_per_producer_exactly_once(const std::vector<std::vector<Item>>& received, std::uint32_t producers,
                                    std::uint32_t per_producer) {
  std::vector<std::uint64_t> all;
  for (const auto& seen : received) {
    std::vector<std::int64_t> last(producers, -1);
    for (const Item& item : seen) {
      if (item.producer >= producers || static_cast<std::int64_t>(item.sequence) <= last[item.producer]) return false;
      last[item.producer] = item.sequence;
      all.push_back((std::uint64_t{item.producer} << 32) | item.sequence);
    }
  }
  std::sort(all.begin(), all.end());
  if (all.size() != std::size_t{producers} * per_producer) return false;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i] != ((std::uint64_t{i / per_producer} << 32) | (i % per_producer))) return false;
  }
  return true;
}

TEST_P(OnThreads, QueueFifoPerProducerNothingLostOrDuplicated) {
  const auto half = static_cast<std::uint32_t>(GetParam() / 2);
  EXPECT_STRESS_PASSES(run(budget(), [half]<Platform P>() {
    constexpr std::uint32_t kItems = 200;
    BasicQueue<Item, P> queue(4);  // small: producers block on a full queue, consumers on an empty one
    std::vector<std::vector<Item>> received(half);
    Threads<P> consumers;
    start_threads<P>(consumers, static_cast<int>(half), [&](int c) {
      return [&, c] {
        while (auto item = queue.get()) received[static_cast<std::size_t>(c)].push_back(*item);
      };
    });
    Threads<P> producers;
    start_threads<P>(producers, static_cast<int>(half), [&](int p) {
      return [&, p] {
        for (std::uint32_t s = 0; s < kItems; ++s) queue.put(Item{static_cast<std::uint32_t>(p), s});
      };
    });
    join_threads<P>(producers);
    queue.close();
    join_threads<P>(consumers);
    INTERLEAVE_ASSERT(fifo_per_producer_exactly_once(received, half, kItems));
  }));
}

TEST_P(OnThreads, PipeKeepsEachSendersOrderThenEndOfStream) {
  const auto senders = static_cast<std::uint32_t>(GetParam() - 1);
  EXPECT_STRESS_PASSES(run(budget(), [senders]<Platform P>() {
    constexpr std::uint32_t kMessages = 100;
    auto [reader, writer] = make_pipe<P>({.capacity = 64, .duplex = false});
    std::vector<std::vector<Item>> received(1);
    bool end_of_stream = false;
    BasicThread<P> receiver([&, r = reader] {
      try {
        for (;;) received[0].push_back(r.template recv_value<Item>());
      } catch (const EndOfStream&) {
        end_of_stream = true;
      }
    });
    receiver.start();
    Threads<P> threads;
    start_threads<P>(threads, static_cast<int>(senders), [&, w = writer](int s) {
      return [w, s] {
        for (std::uint32_t i = 0; i < kMessages; ++i) w.send_value(Item{static_cast<std::uint32_t>(s), i});
      };
    });
    join_threads<P>(threads);
    writer.close();
    receiver.join();
    INTERLEAVE_ASSERT(end_of_stream);
    INTERLEAVE_ASSERT(fifo_per_producer_exactly_once(received, senders, kMessages));
  }));
}

// --- between processes ---------------------------------------------------------------------------

TEST(StressProcesses, SharedQueueFromTwoProducerProcessesFifoNothingLost) {
  EXPECT_STRESS_PASSES(run(budget(10, 400), []<Platform P>() {
    constexpr std::uint32_t kItems = 300;
    using S = typename P::Shared;
    BasicSharedQueue<Item, S> queue(8);
    std::vector<std::unique_ptr<typename P::Process>> producers;
    for (std::uint32_t p = 0; p < 2; ++p) {
      producers.push_back(std::make_unique<typename P::Process>(
          [&queue, p] {
            for (std::uint32_t s = 0; s < kItems; ++s) queue.put(Item{p, s});
          },
          "producer " + std::to_string(p)));
      producers.back()->start();
    }
    std::vector<std::vector<Item>> received(1);
    BasicThread<P> consumer([&] {
      while (auto item = queue.get()) received[0].push_back(*item);
    });
    consumer.start();
    for (auto& p : producers) p->join();
    queue.close();
    consumer.join();
    INTERLEAVE_ASSERT(fifo_per_producer_exactly_once(received, 2, kItems));
  }));
}

TEST(StressProcesses, PipeBetweenProcessesInOrderThenEndOfStream) {
  EXPECT_STRESS_PASSES(run(budget(10, 400), []<Platform P>() {
    constexpr std::uint32_t kMessages = 300;
    using S = typename P::Shared;
    // A child sends to the parent; another child receives from the parent and checks, itself,
    // the order and the end of stream (a failed check there fails the run through its exit).
    auto [from_child, child_writer] = make_pipe<S>({.capacity = 64, .duplex = false});
    auto [child_reader, to_child] = make_pipe<S>({.capacity = 64, .duplex = false});
    typename P::Process sender(
        [w = child_writer] {
          for (std::uint32_t i = 0; i < kMessages; ++i) w.send_value(i);
          w.close();
        },
        "sender");
    typename P::Process receiver(
        [r = child_reader] {
          std::uint32_t expected = 0;
          try {
            for (;; ++expected) INTERLEAVE_ASSERT(r.template recv_value<std::uint32_t>() == expected);
          } catch (const EndOfStream&) {
          }
          INTERLEAVE_ASSERT(expected == kMessages);
        },
        "receiver");
    sender.start();
    receiver.start();
    for (std::uint32_t i = 0; i < kMessages; ++i) to_child.send_value(i);
    to_child.close();
    std::uint32_t got = 0;
    try {
      for (;; ++got) INTERLEAVE_ASSERT(from_child.template recv_value<std::uint32_t>() == got);
    } catch (const EndOfStream&) {
    }
    INTERLEAVE_ASSERT(got == kMessages);
    sender.join();
    receiver.join();
  }));
}

}  // namespace
}  // namespace interleave
