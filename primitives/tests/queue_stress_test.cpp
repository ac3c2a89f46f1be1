// Bounded-time multi-thread and multi-process stress for Queue and SharedQueue: per-producer FIFO,
// nothing lost or duplicated, capacity never exceeded, close under load.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "interleave/process.h"
#include "interleave/queue.h"
#include "interleave/shared_memory.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

#if defined(__SANITIZE_THREAD__)
constexpr int kScale = 1;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr int kScale = 1;
#else
constexpr int kScale = 4;
#endif
#else
constexpr int kScale = 4;
#endif

// An item names its producer and its position in that producer's sequence.
struct Item {
  std::uint32_t producer;
  std::uint32_t sequence;
};

std::uint64_t key(Item item) { return (std::uint64_t{item.producer} << 32) | item.sequence; }

// Checks that `received` (what each consumer got, in the order it got it) holds every item of
// `producers` x `per_producer` exactly once, and that each consumer saw each producer's items in
// increasing order.
void expect_exactly_once_in_producer_order(const std::vector<std::vector<Item>>& received, std::uint32_t producers,
                                           std::uint32_t per_producer) {
  std::vector<std::uint64_t> all;
  for (const auto& seen : received) {
    std::vector<std::int64_t> last(producers, -1);
    for (const Item& item : seen) {
      ASSERT_LT(item.producer, producers);
      ASSERT_GT(static_cast<std::int64_t>(item.sequence), last[item.producer])
          << "producer " << item.producer << "'s items were got out of order";
      last[item.producer] = item.sequence;
      all.push_back(key(item));
    }
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), std::size_t{producers} * per_producer) << "items were lost or duplicated";
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "an item was got twice";
  std::size_t i = 0;
  for (std::uint32_t p = 0; p < producers; ++p) {
    for (std::uint32_t s = 0; s < per_producer; ++s, ++i) ASSERT_EQ(all[i], key(Item{p, s}));
  }
}

// Producers put their items (mixing put, try_put and try_put_for), consumers get until closed
// (mixing get, try_get and get_for); a watcher checks size() <= capacity throughout.
void run_threads(std::ptrdiff_t capacity, std::uint32_t producers, std::uint32_t consumers,
                 std::uint32_t per_producer) {
  Queue<Item> q = capacity == 0 ? Queue<Item>() : Queue<Item>(capacity);
  std::vector<std::vector<Item>> received(consumers);
  std::atomic<bool> done{false};
  std::atomic<std::size_t> max_seen{0};

  std::vector<std::thread> threads;
  for (std::uint32_t c = 0; c < consumers; ++c) {
    threads.emplace_back([&, c] {
      std::vector<Item>& mine = received[c];
      for (std::uint32_t n = 0;; ++n) {
        if (n % 3 == 0) {
          std::optional<Item> item = q.get();
          if (!item) return;
          mine.push_back(*item);
        } else {
          QueueResult<Item> r = n % 3 == 1 ? q.try_get() : q.get_for(1ms);
          if (r) {
            mine.push_back(*r);
          } else if (r.closed()) {
            return;
          }
        }
      }
    });
  }
  std::vector<std::thread> producer_threads;
  for (std::uint32_t p = 0; p < producers; ++p) {
    producer_threads.emplace_back([&, p] {
      for (std::uint32_t s = 0; s < per_producer; ++s) {
        const Item item{p, s};
        switch (s % 3) {
          case 0:
            q.put(item);
            break;
          case 1:
            while (q.try_put(item) != QueueStatus::ok) std::this_thread::yield();
            break;
          default:
            while (q.try_put_for(Item(item), 1ms) != QueueStatus::ok) {
            }
            break;
        }
      }
    });
  }
  std::thread watcher([&] {
    while (!done.load()) {
      const std::size_t size = q.size();
      if (size > max_seen.load()) max_seen = size;
      std::this_thread::yield();
    }
  });
  for (auto& t : producer_threads) t.join();
  q.close();
  for (auto& t : threads) t.join();
  done = true;
  watcher.join();

  if (capacity > 0) {
    EXPECT_LE(max_seen.load(), static_cast<std::size_t>(capacity));
  }
  expect_exactly_once_in_producer_order(received, producers, per_producer);
}

TEST(QueueStress, OneProducerOneConsumerBounded) { run_threads(4, 1, 1, 5000 * kScale); }
TEST(QueueStress, ManyProducersManyConsumersBoundedSmall) { run_threads(3, 4, 4, 1000 * kScale); }
TEST(QueueStress, ManyProducersManyConsumersBoundedOne) { run_threads(1, 3, 3, 1000 * kScale); }
TEST(QueueStress, ManyProducersManyConsumersUnbounded) { run_threads(0, 4, 3, 3000 * kScale); }

// With a single producer and a single consumer, the consumer sees exactly 0..n-1.
TEST(QueueStress, SingleProducerSingleConsumerSeesExactOrder) {
  Queue<std::uint32_t> q(8);
  const std::uint32_t n = 10000 * kScale;
  std::thread producer([&] {
    for (std::uint32_t i = 0; i < n; ++i) q.put(i);
    q.close();
  });
  std::uint32_t expected = 0;
  while (auto v = q.get()) {
    ASSERT_EQ(*v, expected);
    ++expected;
  }
  producer.join();
  EXPECT_EQ(expected, n);
}

// Close while producers and consumers are busy: every put that succeeded is got exactly once,
// every refused put was refused because of close, and every blocked thread returns.
// Unbounded, close also races with producers installing larger rings.
void close_under_load(std::ptrdiff_t capacity, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    Queue<Item> q = capacity == 0 ? Queue<Item>() : Queue<Item>(capacity);
    constexpr std::uint32_t kProducers = 3;
    constexpr std::uint32_t kConsumers = 2;
    std::vector<std::uint32_t> put_count(kProducers, 0);
    std::vector<std::vector<Item>> received(kConsumers);
    std::vector<std::thread> threads;
    for (std::uint32_t p = 0; p < kProducers; ++p) {
      threads.emplace_back([&, p] {
        for (std::uint32_t s = 0;; ++s) {
          try {
            q.put(Item{p, s});
          } catch (const QueueClosed&) {
            return;
          }
          put_count[p] = s + 1;
        }
      });
    }
    for (std::uint32_t c = 0; c < kConsumers; ++c) {
      threads.emplace_back([&, c] {
        while (auto item = q.get()) received[c].push_back(*item);
      });
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100 + 50 * (round % 4)));
    q.close();
    for (auto& t : threads) t.join();

    std::vector<std::uint64_t> all;
    for (const auto& seen : received) {
      std::vector<std::int64_t> last(kProducers, -1);
      for (const Item& item : seen) {
        ASSERT_GT(static_cast<std::int64_t>(item.sequence), last[item.producer]);
        last[item.producer] = item.sequence;
        all.push_back(key(item));
      }
    }
    std::sort(all.begin(), all.end());
    std::vector<std::uint64_t> expected;
    for (std::uint32_t p = 0; p < kProducers; ++p) {
      for (std::uint32_t s = 0; s < put_count[p]; ++s) expected.push_back(key(Item{p, s}));
    }
    ASSERT_EQ(all, expected) << "capacity " << capacity << ", round " << round;
  }
}

TEST(QueueStress, CloseUnderLoadBounded) { close_under_load(2, 5 * kScale); }
TEST(QueueStress, CloseUnderLoadUnbounded) { close_under_load(0, 5); }

// Processes: producers and a consumer in separate processes sharing one SharedQueue. The
// consumer records what it got in shared memory for the parent to check.
template <std::uint32_t Producers, std::uint32_t PerProducer>
struct Received {
  std::uint32_t count = 0;
  Item items[Producers * PerProducer + 1];
};

template <std::uint32_t Producers, std::uint32_t PerProducer>
void run_processes(std::ptrdiff_t capacity) {
  SharedQueue<Item> q(capacity);
  SharedObject<Received<Producers, PerProducer>> received;
  std::vector<std::unique_ptr<Process>> producers;
  for (std::uint32_t p = 0; p < Producers; ++p) {
    producers.push_back(std::make_unique<Process>(
        [&q, p] {
          for (std::uint32_t s = 0; s < PerProducer; ++s) {
            if (s % 2 == 0) {
              q.put(Item{p, s});
            } else {
              while (q.try_put_for(Item{p, s}, 1ms) != QueueStatus::ok) {
              }
            }
          }
        },
        "producer " + std::to_string(p)));
  }
  Process consumer(
      [&q, &received]() -> int {
        auto& r = *received;
        while (auto item = q.get()) {
          if (r.count == Producers * PerProducer) return 3;  // more than was put
          r.items[r.count++] = *item;
        }
        return 0;
      },
      "consumer");
  consumer.start();
  for (auto& p : producers) p->start();
  for (auto& p : producers) {
    const ExitStatus status = p->join();
    EXPECT_TRUE(status.success()) << p->name() << " " << status.describe();
  }
  q.close();  // the consumer drains the rest, then sees closed
  const ExitStatus status = consumer.join();
  ASSERT_TRUE(status.success()) << status.describe();

  std::vector<std::vector<Item>> got(1);
  got[0].assign(received->items, received->items + received->count);
  expect_exactly_once_in_producer_order(got, Producers, PerProducer);
}

TEST(SharedQueueStress, ProducerProcessConsumerProcess) { run_processes<1, 5000 * kScale>(8); }
TEST(SharedQueueStress, TwoProducerProcessesOneConsumerProcess) { run_processes<2, 2500 * kScale>(4); }
TEST(SharedQueueStress, TwoProducerProcessesOneConsumerProcessCapacityOne) { run_processes<2, 1000 * kScale>(1); }

}  // namespace
}  // namespace interleave
