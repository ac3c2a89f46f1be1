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
#include <vector>

#include "interleave/queue.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"
#include "scenarios/queue_scenarios.h"
#include "zoo/broken_queues.h"

namespace interleave {
namespace {

using scenarios::QueueScenario;

rc::Gen<QueueScenario> queue_scenarios() {
  return rc::gen::build<QueueScenario>(rc::gen::set(&QueueScenario::capacity, rc::gen::inRange(1, 4)),
                                       rc::gen::set(&QueueScenario::producers, rc::gen::inRange(1, 3)),
                                       rc::gen::set(&QueueScenario::consumers, rc::gen::inRange(1, 3)),
                                       rc::gen::set(&QueueScenario::items_per_producer, rc::gen::inRange(1, 4)));
}

// The property bodies are in scenarios/queue_scenarios.h; here each runs over generated scenarios.
template <template <class> class QueueT>
void fifo_nothing_lost_or_duplicated() {
  check_schedules(scenarios::fifo_nothing_lost_or_duplicated<QueueT>(*queue_scenarios()));
}

template <template <class> class QueueT>
void capacity_never_exceeded() {
  check_schedules(scenarios::capacity_never_exceeded<QueueT>(*queue_scenarios()));
}

template <template <class> class QueueT>
void close_drains_then_refuses() {
  check_schedules(scenarios::close_drains_then_refuses<QueueT>(*queue_scenarios()));
}

INTERLEAVE_PROPERTY(QueueProperties, PerProducerFifoNothingLostOrDuplicated, ()) {
  fifo_nothing_lost_or_duplicated<scenarios::RealQueue>();
}
INTERLEAVE_PROPERTY(QueueProperties, CapacityNeverExceeded, ()) { capacity_never_exceeded<scenarios::RealQueue>(); }
INTERLEAVE_PROPERTY(QueueProperties, CloseDrainsThenRefuses, ()) { close_drains_then_refuses<scenarios::RealQueue>(); }

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
