// The bodies of the Queue properties (properties/queue_properties.cpp), each a function of one
// scenario: the property suite runs them over RapidCheck-generated scenarios, and
// bench/scoreboard/ runs them on one fixed scenario per broken queue under every strategy.
// Each returns a platform-generic body, []<Platform P>() {...}, for explore() or stress(). A queue
// type here has put(int) / get() -> std::optional<int> / close() / size().
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "interleave/explore.h"
#include "interleave/platform.h"
#include "interleave/queue.h"
#include "interleave/thread.h"

namespace interleave::scenarios {

struct QueueScenario {
  int capacity;
  int producers;
  int consumers;
  int items_per_producer;
};

// The real queue, seen through the interface these bodies (and the zoo) use.
template <Platform P>
class RealQueue {
 public:
  explicit RealQueue(int capacity) : queue_(capacity) {}
  void put(int value) { queue_.put(value); }
  std::optional<int> get() { return queue_.get(); }
  void close() { queue_.close(); }
  std::size_t size() { return queue_.size(); }

 private:
  BasicQueue<int, P> queue_;
};

inline void showValue(const QueueScenario& s, std::ostream& out) {
  out << "capacity " << s.capacity << ", " << s.producers << " producers x " << s.items_per_producer << " items, "
      << s.consumers << " consumers";
}

// What each consumer took (item p * 100 + i is producer p's i-th put, i < 100): every producer's
// items in the order it put them, and all of them, each exactly once.
inline void assert_per_producer_fifo_exactly_once(const std::vector<std::vector<int>>& got, const QueueScenario& s) {
  std::vector<int> all;
  for (const auto& mine : got) {
    std::vector<int> last(static_cast<std::size_t>(s.producers), -1);
    for (int v : mine) {
      INTERLEAVE_ASSERT(v >= 0 && v / 100 < s.producers);
      INTERLEAVE_ASSERT(v > last[static_cast<std::size_t>(v / 100)]);  // in the order it was put
      last[static_cast<std::size_t>(v / 100)] = v;
    }
    all.insert(all.end(), mine.begin(), mine.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<int> expected;
  for (int p = 0; p < s.producers; ++p) {
    for (int i = 0; i < s.items_per_producer; ++i) expected.push_back(p * 100 + i);
  }
  INTERLEAVE_ASSERT(all == expected);
}

// Per-producer FIFO, nothing lost, nothing duplicated: every consumer takes a fixed share of the
// items, so a lost wake-up shows as a deadlock and a lost item as a missing value.
template <template <class> class QueueT>
auto fifo_nothing_lost_or_duplicated(QueueScenario s) {
  return [s]<Platform P>() {
    QueueT<P> queue(s.capacity);
    const int total = s.producers * s.items_per_producer;
    std::vector<std::vector<int>> got(static_cast<std::size_t>(s.consumers));
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int p = 0; p < s.producers; ++p) {
      threads.push_back(std::make_unique<BasicThread<P>>([&, p] {
        for (int i = 0; i < s.items_per_producer; ++i) queue.put(p * 100 + i);
      }));
    }
    for (int c = 0; c < s.consumers; ++c) {
      const int share = total / s.consumers + (c < total % s.consumers ? 1 : 0);
      threads.push_back(std::make_unique<BasicThread<P>>([&, c, share] {
        for (int i = 0; i < share; ++i) {
          const std::optional<int> item = queue.get();
          INTERLEAVE_ASSERT(item.has_value());
          got[static_cast<std::size_t>(c)].push_back(*item);
        }
      }));
    }
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
    assert_per_producer_fifo_exactly_once(got, s);
  };
}

// The capacity is never exceeded: size() never reports more items than the capacity.
template <template <class> class QueueT>
auto capacity_never_exceeded(QueueScenario s) {
  return [s]<Platform P>() {
    QueueT<P> queue(s.capacity);
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int p = 0; p < s.producers; ++p) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        for (int i = 0; i < s.items_per_producer; ++i) {
          queue.put(i);
          INTERLEAVE_ASSERT(queue.size() <= static_cast<std::size_t>(s.capacity));
        }
      }));
    }
    threads.push_back(std::make_unique<BasicThread<P>>([&] {
      for (int i = 0; i < s.producers * s.items_per_producer; ++i) (void)queue.get();
    }));
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
  };
}

// close() lets getters drain what is left, then tells them the queue is closed; blocked getters
// are woken by it.
template <template <class> class QueueT>
auto close_drains_then_refuses(QueueScenario s) {
  return [s]<Platform P>() {
    QueueT<P> queue(s.capacity);
    const int items = std::min(s.capacity, s.items_per_producer);
    for (int i = 0; i < items; ++i) queue.put(i);
    std::vector<std::vector<int>> got(static_cast<std::size_t>(s.consumers));
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int c = 0; c < s.consumers; ++c) {
      threads.push_back(std::make_unique<BasicThread<P>>([&, c] {
        while (const std::optional<int> item = queue.get()) got[static_cast<std::size_t>(c)].push_back(*item);
      }));
    }
    for (auto& t : threads) t->start();
    queue.close();
    for (auto& t : threads) t->join();
    std::size_t drained = 0;
    for (const auto& mine : got) drained += mine.size();
    INTERLEAVE_ASSERT(drained == static_cast<std::size_t>(items));
  };
}

}  // namespace interleave::scenarios
