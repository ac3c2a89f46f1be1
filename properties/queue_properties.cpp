// Queue: one property per guarantee of its contract (primitives/include/interleave/queue.h),
// checked under the model scheduler over RapidCheck-generated scenarios; the zoo's broken queues
// must fail the same properties. Also the tutorial's `while not queue.empty(): queue.get()`
// consumer, run beside its producer: the harness shows why it is racy.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "interleave/queue.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"
#include "zoo/broken_queues.h"

namespace interleave {
namespace {

// The real queue, seen through the interface the properties (and the zoo) use.
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

struct Scenario {
  int capacity;
  int producers;
  int consumers;
  int items_per_producer;
};

void showValue(const Scenario& s, std::ostream& out) {
  out << "capacity " << s.capacity << ", " << s.producers << " producers x " << s.items_per_producer << " items, "
      << s.consumers << " consumers";
}

rc::Gen<Scenario> scenarios() {
  return rc::gen::build<Scenario>(rc::gen::set(&Scenario::capacity, rc::gen::inRange(1, 4)),
                                  rc::gen::set(&Scenario::producers, rc::gen::inRange(1, 3)),
                                  rc::gen::set(&Scenario::consumers, rc::gen::inRange(1, 3)),
                                  rc::gen::set(&Scenario::items_per_producer, rc::gen::inRange(1, 4)));
}

// Per-producer FIFO, nothing lost, nothing duplicated: every consumer takes a fixed share of the
// items, so a lost wake-up shows as a deadlock and a lost item as a missing value.
template <template <class> class QueueT>
void fifo_nothing_lost_or_duplicated() {
  const Scenario s = *scenarios();
  check_schedules([&]<Platform P>() {
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
    std::vector<int> all;
    for (const auto& mine : got) {
      for (int p = 0; p < s.producers; ++p) {
        int last = -1;
        for (int v : mine) {
          if (v / 100 != p) continue;
          INTERLEAVE_ASSERT(v > last);  // this producer's items arrive in the order it put them
          last = v;
        }
      }
      all.insert(all.end(), mine.begin(), mine.end());
    }
    std::sort(all.begin(), all.end());
    std::vector<int> expected;
    for (int p = 0; p < s.producers; ++p) {
      for (int i = 0; i < s.items_per_producer; ++i) expected.push_back(p * 100 + i);
    }
    INTERLEAVE_ASSERT(all == expected);
  });
}

// The capacity is never exceeded: size() never reports more items than the capacity.
template <template <class> class QueueT>
void capacity_never_exceeded() {
  const Scenario s = *scenarios();
  check_schedules([&]<Platform P>() {
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
  });
}

// close() lets getters drain what is left, then tells them the queue is closed; blocked getters
// are woken by it.
template <template <class> class QueueT>
void close_drains_then_refuses() {
  const Scenario s = *scenarios();
  check_schedules([&]<Platform P>() {
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
  });
}

RC_GTEST_PROP(QueueProperties, PerProducerFifoNothingLostOrDuplicated, ()) {
  fifo_nothing_lost_or_duplicated<RealQueue>();
}
RC_GTEST_PROP(QueueProperties, CapacityNeverExceeded, ()) { capacity_never_exceeded<RealQueue>(); }
RC_GTEST_PROP(QueueProperties, CloseDrainsThenRefuses, ()) { close_drains_then_refuses<RealQueue>(); }

// The zoo: each broken queue must fail at least one property with default settings.
TEST(QueueZoo, UnlockedTailLosesItems) {
  EXPECT_FALSE(rc::check("unlocked tail", [] { fifo_nothing_lost_or_duplicated<zoo::UnlockedTailQueue>(); }));
}
TEST(QueueZoo, NotifyBeforePublishLosesAWakeup) {
  EXPECT_FALSE(
      rc::check("notify before publish", [] { fifo_nothing_lost_or_duplicated<zoo::NotifyBeforePublishQueue>(); }));
}
TEST(QueueZoo, CloseWithoutWakeLeavesGettersAsleep) {
  EXPECT_FALSE(rc::check("close without wake", [] { close_drains_then_refuses<zoo::CloseWithoutWakeQueue>(); }));
}

// The tutorial's consumer, `while not queue.empty(): print(queue.get())`, is correct in the
// tutorial only because the producer was joined first. Run beside the producer, empty() is a
// snapshot that can be true before the producer's first put: the consumer stops early and items
// are left behind. The harness finds that schedule.
TEST(TutorialQueue, EmptyLoopConsumerBesideItsProducerIsRacy) {
  Options options;
  options.schedules = 200;
  const Result r = explore(options, []<Platform P>() {
    BasicQueue<int, P> queue;
    int printed = 0;
    BasicThread<P> producer([&] {
      for (int i = 0; i < 5; ++i) queue.put(i);
    });
    BasicThread<P> consumer([&] {
      while (!queue.empty()) {
        (void)queue.get();
        ++printed;
      }
    });
    producer.start();
    consumer.start();
    producer.join();
    consumer.join();
    INTERLEAVE_ASSERT(printed == 5);
  });
  ASSERT_TRUE(r.failed()) << "the racy consumer passed every schedule";
  EXPECT_EQ(r.failure->kind, FailureKind::assertion) << r;
  std::cout << "What interleave reports for the tutorial's consumer run beside its producer:\n" << r;
}

}  // namespace
}  // namespace interleave
