// Queue: one property per guarantee of its contract (primitives/include/interleave/queue.h),
// checked under the model scheduler over RapidCheck-generated scenarios; the zoo's broken queues
// must fail the same properties. Also the tutorial's `while not queue.empty(): queue.get()`
// consumer, run beside its producer: the harness shows why it is racy.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "interleave/queue.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"
#include "scenarios/queue_scenarios.h"
#include "zoo/broken_queues.h"

namespace interleave {
namespace {

using scenarios::QueueScenario;

// Up to `items` per producer: a few in the model, more on real threads (see mutex_properties.cpp).
rc::Gen<QueueScenario> queue_scenarios(int items = 4) {
  return rc::gen::build<QueueScenario>(rc::gen::set(&QueueScenario::capacity, rc::gen::inRange(1, 4)),
                                       rc::gen::set(&QueueScenario::producers, rc::gen::inRange(1, 3)),
                                       rc::gen::set(&QueueScenario::consumers, rc::gen::inRange(1, 3)),
                                       rc::gen::set(&QueueScenario::items_per_producer, rc::gen::inRange(1, items)));
}

// The property bodies are in scenarios/queue_scenarios.h; here each runs over generated scenarios,
// in the model (check_schedules) or on real threads (check_stress).
template <template <class> class QueueT, class Check = decltype(in_model)>
void fifo_nothing_lost_or_duplicated(Check check = in_model, int items = 4) {
  check(scenarios::fifo_nothing_lost_or_duplicated<QueueT>(*queue_scenarios(items)));
}

template <template <class> class QueueT, class Check = decltype(in_model)>
void capacity_never_exceeded(Check check = in_model, int items = 4) {
  check(scenarios::capacity_never_exceeded<QueueT>(*queue_scenarios(items)));
}

template <template <class> class QueueT, class Check = decltype(in_model)>
void close_drains_then_refuses(Check check = in_model) {
  check(scenarios::close_drains_then_refuses<QueueT>(*queue_scenarios()));
}

INTERLEAVE_PROPERTY(QueueProperties, PerProducerFifoNothingLostOrDuplicated, ()) {
  fifo_nothing_lost_or_duplicated<scenarios::RealQueue>();
}
INTERLEAVE_PROPERTY(QueueProperties, CapacityNeverExceeded, ()) { capacity_never_exceeded<scenarios::RealQueue>(); }
INTERLEAVE_PROPERTY(QueueProperties, CloseDrainsThenRefuses, ()) { close_drains_then_refuses<scenarios::RealQueue>(); }

// The same guarantees of the production queue on real threads under perturbed timing.
INTERLEAVE_PROPERTY(QueueStressProperties, PerProducerFifoNothingLostOrDuplicated, ()) {
  fifo_nothing_lost_or_duplicated<scenarios::RealQueue>(on_real_threads, 50);
}
INTERLEAVE_PROPERTY(QueueStressProperties, CapacityNeverExceeded, ()) {
  capacity_never_exceeded<scenarios::RealQueue>(on_real_threads, 50);
}
INTERLEAVE_PROPERTY(QueueStressProperties, CloseDrainsThenRefuses, ()) {
  close_drains_then_refuses<scenarios::RealQueue>(on_real_threads);
}

// Between processes: producer processes put into one shared queue (BasicSharedQueue over the
// platform's process-shared variant), consumer threads of the parent take from it. Each
// producer's items arrive in order, every item exactly once.
INTERLEAVE_PROPERTY(QueueStressProperties, BetweenProcessesPerProducerFifoNothingLost, ()) {
  const QueueScenario s = *queue_scenarios(50);
  check_stress([s]<Platform P>() {
    BasicSharedQueue<int, typename P::Shared> queue(s.capacity);
    std::vector<std::unique_ptr<typename P::Process>> producers;
    for (int p = 0; p < s.producers; ++p) {
      producers.push_back(std::make_unique<typename P::Process>(
          [&queue, p, s] {
            for (int i = 0; i < s.items_per_producer; ++i) queue.put(p * 100 + i);
          },
          "producer " + std::to_string(p)));
    }
    std::vector<std::vector<int>> got(static_cast<std::size_t>(s.consumers));
    std::vector<std::unique_ptr<BasicThread<P>>> consumers;
    for (int c = 0; c < s.consumers; ++c) {
      consumers.push_back(std::make_unique<BasicThread<P>>([&, c] {
        while (const std::optional<int> item = queue.get()) got[static_cast<std::size_t>(c)].push_back(*item);
      }));
    }
    for (auto& p : producers) p->start();
    for (auto& c : consumers) c->start();
    for (auto& p : producers) p->join();
    queue.close();
    for (auto& c : consumers) c->join();
    scenarios::assert_per_producer_fifo_exactly_once(got, s);
  });
}

// The zoo: each broken queue must fail at least one property with default settings.
TEST(QueueZoo, UnlockedTailLosesItems) {
  EXPECT_TRUE(property_fails("unlocked tail", [] { fifo_nothing_lost_or_duplicated<zoo::UnlockedTailQueue>(); }));
}
TEST(QueueZoo, NotifyBeforePublishLosesAWakeup) {
  EXPECT_TRUE(property_fails("notify before publish",
                             [] { fifo_nothing_lost_or_duplicated<zoo::NotifyBeforePublishQueue>(); }));
}
TEST(QueueZoo, CloseWithoutWakeLeavesGettersAsleep) {
  EXPECT_TRUE(property_fails("close without wake", [] { close_drains_then_refuses<zoo::CloseWithoutWakeQueue>(); }));
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
  // For the reader, on demand: INTERLEAVE_EXPECTED_FAILURE_REPORTS=on.
  Options shown;
  shown.apply_environment();
  if (shown.expected_failure_reports) {
    std::cout << "What interleave reports for the tutorial's consumer run beside its producer:\n" << r;
  }
}

}  // namespace
}  // namespace interleave
