// The weak memory model against primitives: the real Mutex publishes relaxed writes from one
// holder to the next, and the zoo's primitives that are wrong only in a memory order are caught
// under the weak model (Options::memory_model = weak, the default) and not under sc.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>

#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/queue.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"
#include "scenarios/mutex_scenarios.h"
#include "zoo/broken_memory_orders.h"

namespace interleave {
namespace {

template <Platform P>
using RealMutex = BasicMutex<P>;

INTERLEAVE_PROPERTY(MutexProperties, UnlockPublishesRelaxedWrites, ()) {
  in_model(scenarios::unlock_publishes_relaxed_writes<RealMutex>(
      scenarios::CounterScenario{*rc::gen::inRange(2, 4), *rc::gen::inRange(1, 4)}));
}

Options with_model(MemoryModel model, std::uint64_t schedules = 10'000) {
  Options o;
  o.memory_model = model;
  o.schedules = schedules;
  o.progress = Progress::off;
  return o;
}

TEST(MemoryModelZoo, RelaxedUnlockMutexIsCaughtUnderWeakNotUnderSc) {
  const auto body = scenarios::unlock_publishes_relaxed_writes<zoo::RelaxedUnlockMutex>({2, 2});
  const Result weak = explore(with_model(MemoryModel::weak), body);
  EXPECT_TRUE(weak.failed());
  EXPECT_NE(weak.report().find("found under the weak memory model"), std::string::npos) << weak.report();
  const Result sc = explore(with_model(MemoryModel::sc), body);
  EXPECT_TRUE(sc.passed()) << sc.report();
}

// Two threads take the lock once each; a counter of holders (an RMW, which always reads the
// newest value) must never reach two.
template <template <class> class Lock>
auto peterson_mutual_exclusion() {
  return []<Platform P>() {
    Lock<P> lock;
    typename P::template Atomic<int> holders{0};
    const auto hold = [&](int me) {
      lock.lock(me);
      INTERLEAVE_ASSERT(holders.fetch_add(1, std::memory_order_relaxed) == 0, "both threads hold the lock");
      holders.fetch_sub(1, std::memory_order_relaxed);
      lock.unlock(me);
    };
    BasicThread<P> t0([&] { hold(0); });
    BasicThread<P> t1([&] { hold(1); });
    t0.start();
    t1.start();
    t0.join();
    t1.join();
  };
}

TEST(MemoryModelZoo, AcquireReleasePetersonLockIsCaughtUnderWeakNotUnderSc) {
  const auto body = peterson_mutual_exclusion<zoo::AcquireReleasePetersonLock>();
  EXPECT_TRUE(explore(with_model(MemoryModel::weak), body).failed());
  const Result sc = explore(with_model(MemoryModel::sc, 2'000), body);
  EXPECT_TRUE(sc.passed()) << sc.report();
}

TEST(MemoryModelZoo, SeqCstPetersonLockPassesUnderWeak) {
  const Result weak = explore(with_model(MemoryModel::weak), peterson_mutual_exclusion<zoo::SeqCstPetersonLock>());
  EXPECT_TRUE(weak.passed()) << weak.report();
}

// A waiter and a setter: the waiter's wait() returns (a lost wake-up is a deadlock).
template <template <class> class Event>
auto set_wakes_the_waiter() {
  return []<Platform P>() {
    Event<P> event;
    BasicThread<P> waiter([&] { event.wait(); });
    BasicThread<P> setter([&] { event.set(); });
    waiter.start();
    setter.start();
    waiter.join();
    setter.join();
  };
}

TEST(MemoryModelZoo, AcquireReleaseEventCountIsCaughtUnderWeakNotUnderSc) {
  const auto body = set_wakes_the_waiter<zoo::AcqRelEventCountEvent>();
  const Result weak = explore(with_model(MemoryModel::weak), body);
  ASSERT_TRUE(weak.failed());
  EXPECT_EQ(weak.failure->kind, FailureKind::deadlock) << weak.report();
  const Result sc = explore(with_model(MemoryModel::sc), body);
  EXPECT_TRUE(sc.passed()) << sc.report();
}

TEST(MemoryModelZoo, SeqCstEventCountPassesUnderWeak) {
  const Result weak = explore(with_model(MemoryModel::weak), set_wakes_the_waiter<zoo::SeqCstEventCountEvent>());
  EXPECT_TRUE(weak.passed()) << weak.report();
}

// A producer pushes 0..3, a consumer pops until it has 4: in order, nothing lost or stale.
template <template <class> class Ring>
auto ring_is_fifo() {
  return []<Platform P>() {
    Ring<P> ring;
    BasicThread<P> producer([&] {
      for (int i = 0; i < 4; ++i) {
        while (!ring.try_push(i)) P::yield();
      }
    });
    BasicThread<P> consumer([&] {
      for (int i = 0; i < 4; ++i) {
        int got = -1;
        while (!ring.try_pop(got)) P::yield();
        INTERLEAVE_ASSERT(got == i, "the consumer read a slot the producer had not published");
      }
    });
    producer.start();
    consumer.start();
    producer.join();
    consumer.join();
  };
}

TEST(MemoryModelZoo, RelaxedPublicationRingIsCaughtUnderWeakNotUnderSc) {
  const auto body = ring_is_fifo<zoo::RelaxedPublicationRing>();
  EXPECT_TRUE(explore(with_model(MemoryModel::weak), body).failed());
  const Result sc = explore(with_model(MemoryModel::sc, 300), body);
  EXPECT_TRUE(sc.passed()) << sc.report();
}

TEST(MemoryModelZoo, ReleasePublicationRingPassesUnderWeak) {
  const Result weak = explore(with_model(MemoryModel::weak, 2'000), ring_is_fifo<zoo::ReleasePublicationRing>());
  EXPECT_TRUE(weak.passed()) << weak.report();
}

// A put() blocked on a full queue, racing close(): close() must wake it (it then throws
// QueueClosed), under every store its loads may read.
TEST(MemoryModelFindings, QueuePutRacingCloseNeverSleepsForever) {
  Options o = with_model(MemoryModel::weak);
  o.schedules = 20'000;
  const Result r = explore(o, []<Platform P>() {
    BasicQueue<int, P> queue(1);
    queue.put(0);
    bool refused = false;
    BasicThread<P> producer([&] {
      try {
        queue.put(1);
      } catch (const QueueClosed&) {
        refused = true;
      }
    });
    BasicThread<P> closer([&] { queue.close(); });
    producer.start();
    closer.start();
    producer.join();
    closer.join();
    INTERLEAVE_ASSERT(refused, "a put into a full queue returned although nobody took an item");
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

// A get() blocked on an empty queue, racing close(): close() must wake it (it then returns
// nothing).
TEST(MemoryModelFindings, QueueGetRacingCloseNeverSleepsForever) {
  Options o = with_model(MemoryModel::weak);
  o.schedules = 20'000;
  const Result r = explore(o, []<Platform P>() {
    BasicQueue<int, P> queue(1);
    std::optional<int> got = 7;
    BasicThread<P> consumer([&] { got = queue.get(); });
    BasicThread<P> closer([&] { queue.close(); });
    consumer.start();
    closer.start();
    consumer.join();
    closer.join();
    INTERLEAVE_ASSERT(!got.has_value(), "a get from an empty queue returned an item");
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

}  // namespace
}  // namespace interleave
