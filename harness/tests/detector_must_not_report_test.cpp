// The race detector's must-not-report suite: correctly synchronized hand-offs of Shared<T> data
// pass on every explored schedule, for both strategies. In the tsan preset ThreadSanitizer watches
// the same runs (it stops the process on a report), so it must agree that they are race-free.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "interleave/event.h"
#include "interleave/explore.h"
#include "interleave/gtest.h"
#include "interleave/mutex.h"
#include "interleave/pipe.h"
#include "interleave/queue.h"
#include "interleave/semaphore.h"
#include "interleave/shared.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

class DetectorMustNotReport : public ::testing::TestWithParam<Strategy> {
 protected:
  [[nodiscard]] Options options() const {
    Options o;
    o.strategy = GetParam();
    o.schedules = 300;
    return o;
  }
};

INSTANTIATE_TEST_SUITE_P(Strategies, DetectorMustNotReport,
                         ::testing::Values(Strategy::random_walk, Strategy::pct, Strategy::pos, Strategy::surw),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

TEST_P(DetectorMustNotReport, SameAccessesUnderOneLock) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    BasicMutex<P> lock;
    Shared<int, P> x{0};
    BasicThread<P> t([&] {
      std::lock_guard g(lock);
      x.write(x.read() + 1);
    });
    t.start();
    {
      std::lock_guard g(lock);
      x.with_mut([](int& v) { ++v; });
    }
    t.join();
    EXPECT_EQ(x.read(), 2);
  }));
}

// Ten threads (fibers 8 and beyond keep their clock entries outside the vector clock's inline
// part): a counter handed on under one lock, read after every join.
TEST_P(DetectorMustNotReport, TenThreadsUnderOneLockThenJoined) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    BasicMutex<P> lock;
    Shared<int, P> x{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < 10; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        std::lock_guard g(lock);
        x.write(x.read() + 1);
      }));
    }
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
    EXPECT_EQ(x.read(), 10);
  }));
}

// An atomic that outlives the exploration (made before it, reset and used by every schedule):
// each schedule tracks it afresh, and a correct release/acquire publication through it is no race
// on any schedule.
TEST_P(DetectorMustNotReport, AtomicMadeOutsideTheExplorationIsTrackedAfreshInEachSchedule) {
  ModelPlatform::Atomic<std::uint32_t> ready{0};
  Options o = options();
  const Result r = explore(o, [&] {
    ready.store(0, std::memory_order_relaxed);
    Shared<int, ModelPlatform> data{0};
    BasicThread<ModelPlatform> t([&] {
      data.write(42);
      ready.store(1, std::memory_order_release);
    });
    t.start();
    while (ready.load(std::memory_order_acquire) == 0) ModelPlatform::yield();
    INTERLEAVE_ASSERT(data.read() == 42);
    t.join();
  });
  EXPECT_FALSE(r.failed()) << r.report();
  EXPECT_EQ(r.schedules_run, options().schedules);
}

// A detector state freed with its object is reused by the next object made: it must start with
// no uses and no release clock. Here the thread makes, uses and destroys a lock (so its own use is
// no race), then raises a relaxed flag; the main fiber then makes a lock of its own, which takes
// the freed state, and destroys it while nothing orders the thread's steps before it. A use left
// over from the thread's lock would be reported as a lifetime race on the main fiber's.
TEST_P(DetectorMustNotReport, AStateReusedByANewObjectStartsClean) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    typename P::template Atomic<std::uint32_t> done{0};
    BasicThread<P> t([&] {
      {
        BasicMutex<P> own;
        own.lock();
        own.unlock();
      }
      done.store(1, std::memory_order_relaxed);
    });
    t.start();
    while (done.load(std::memory_order_relaxed) == 0) P::yield();
    {
      BasicMutex<P> mine;
      mine.lock();
      mine.unlock();
    }
    t.join();
  }));
}

TEST_P(DetectorMustNotReport, ReleaseAcquirePublication) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    Shared<int, P> data{0};
    typename P::template Atomic<std::uint32_t> ready{0};
    BasicThread<P> t([&] {
      data.write(42);
      ready.store(1, std::memory_order_release);
    });
    t.start();
    while (ready.load(std::memory_order_acquire) == 0) P::yield();
    EXPECT_EQ(data.read(), 42);
    data.write(43);  // ordered after the writer's write too
    t.join();
  }));
}

// A relaxed read-modify-write by a third fiber continues the release sequence.
TEST_P(DetectorMustNotReport, ReleaseSequenceThroughARelaxedReadModifyWrite) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    Shared<int, P> data{0};
    typename P::template Atomic<std::uint32_t> flag{0};
    BasicThread<P> writer([&] {
      data.write(42);
      flag.store(1, std::memory_order_release);
    });
    BasicThread<P> bumper([&] {
      std::uint32_t expected = 1;
      while (!flag.compare_exchange_weak(expected, 2, std::memory_order_relaxed, std::memory_order_relaxed)) {
        expected = 1;
        P::yield();
      }
    });
    writer.start();
    bumper.start();
    while (flag.load(std::memory_order_acquire) != 2) P::yield();
    EXPECT_EQ(data.read(), 42);
    writer.join();
    bumper.join();
  }));
}

TEST_P(DetectorMustNotReport, FencePublication) {
#if INTERLEAVE_TSAN
  GTEST_SKIP() << "ThreadSanitizer does not support fences (g++ rejects them under -fsanitize=thread), so it would "
                  "report this correct publication";
#endif
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    Shared<int, P> data{0};
    typename P::template Atomic<std::uint32_t> ready{0};
    BasicThread<P> t([&] {
      data.write(42);
      atomic_thread_fence<P>(std::memory_order_release);
      ready.store(1, std::memory_order_relaxed);
    });
    t.start();
    while (ready.load(std::memory_order_relaxed) == 0) P::yield();
    atomic_thread_fence<P>(std::memory_order_acquire);
    EXPECT_EQ(data.read(), 42);
    t.join();
  }));
}

TEST_P(DetectorMustNotReport, HandOffThroughQueue) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    BasicQueue<Shared<int, P>*, P> queue(2);
    auto a = std::make_unique<Shared<int, P>>(0);
    auto b = std::make_unique<Shared<int, P>>(0);
    BasicThread<P> producer([&] {
      a->write(1);
      queue.put(a.get());
      b->write(2);
      queue.put(b.get());
    });
    producer.start();
    for (int i = 1; i <= 2; ++i) {
      Shared<int, P>* got = *queue.get();
      EXPECT_EQ(got->read(), i);
      got->write(10 * i);  // the consumer owns it now
    }
    producer.join();
    EXPECT_EQ(a->read() + b->read(), 30);
  }));
}

TEST_P(DetectorMustNotReport, HandOffThroughPipe) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    auto [receiver, sender] = make_pipe<P>(PipeOptions{.capacity = 16, .duplex = false});
    Shared<int, P> data{0};
    BasicThread<P> t([&, &sender = sender] {
      data.write(7);
      sender.send_value(1);
    });
    t.start();
    EXPECT_EQ(receiver.template recv_value<int>(), 1);
    EXPECT_EQ(data.read(), 7);
    data.write(8);
    t.join();
  }));
}

TEST_P(DetectorMustNotReport, HandOffThroughSemaphore) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    BasicSemaphore<P> ready(0);
    Shared<int, P> data{0};
    BasicThread<P> t([&] {
      data.write(5);
      ready.release();
    });
    t.start();
    ready.acquire();
    EXPECT_EQ(data.read(), 5);
    data.write(6);
    t.join();
  }));
}

TEST_P(DetectorMustNotReport, HandOffThroughEvent) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    BasicEvent<P> ready;
    Shared<int, P> data{0};
    BasicThread<P> t([&] {
      data.write(9);
      ready.set();
    });
    t.start();
    ready.wait();
    EXPECT_EQ(data.read(), 9);
    data.write(10);
    t.join();
  }));
}

TEST_P(DetectorMustNotReport, JoinBeforeTheRead) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    Shared<int, P> x{0};
    BasicThread<P> t([&] { x.write(3); });
    t.start();
    t.join();
    EXPECT_EQ(x.read(), 3);
  }));
}

TEST_P(DetectorMustNotReport, DataWrittenBeforeThreadStart) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    Shared<int, P> x{0};
    x.write(4);
    int seen = 0;
    BasicThread<P> t([&] { seen = x.read(); });
    t.start();
    (void)x.read();  // two readers need no order
    t.join();
    EXPECT_EQ(seen, 4);
  }));
}

// The Queue's ring slots are P::Cells: the correct queue orders every item's construction, move
// out and destruction, through slot reuse (laps of a two-slot ring), both kinds of get, and the
// growth of an unbounded queue into new rings.
TEST_P(DetectorMustNotReport, QueueRingSlotsAcrossLapsAndGrowth) {
  Options o = options();
  o.schedules = 1000;
  INTERLEAVE_EXPECT_PASS(explore_test(o, []<Platform P>() {
    BasicQueue<std::unique_ptr<int>, P> bounded(2);
    BasicQueue<int, P> unbounded;
    auto produce = [&](int first) {
      for (int i = first; i < first + 3; ++i) {
        bounded.put(std::make_unique<int>(i));
        unbounded.put(i);
      }
    };
    BasicThread<P> producer_a([&] { produce(0); });
    BasicThread<P> producer_b([&] { produce(10); });
    int sum = 0;
    BasicThread<P> consumer([&] {
      for (int i = 0; i < 3; ++i) sum += **bounded.get();
    });
    producer_a.start();
    producer_b.start();
    consumer.start();
    int mine = 0;
    for (int got = 0; got < 3;) {
      if (auto item = bounded.try_get()) {
        mine += **item;
        ++got;
      } else {
        P::yield();
      }
    }
    producer_a.join();
    producer_b.join();
    consumer.join();
    int total = 0;
    for (int i = 0; i < 6; ++i) total += *unbounded.get();
    EXPECT_EQ(sum + mine, 0 + 1 + 2 + 10 + 11 + 12);
    EXPECT_EQ(total, sum + mine);
  }));
}

// The Pipe's guarded state is P::Cells: a receiver that polls (taking the channel lock uncontended,
// so only the lock's acquire and release order it with the sender) is race-free.
TEST_P(DetectorMustNotReport, PipeGuardedStateUnderAPollingReceiver) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    auto [receiver, sender] = make_pipe<P>(PipeOptions{.capacity = 8, .duplex = false});
    BasicThread<P> t([&sender = sender] {
      sender.send_value(1);
      sender.send_value(2);
      sender.close();
    });
    t.start();
    int sum = 0;
    for (int got = 0; got < 2;) {
      if (receiver.poll()) {
        sum += receiver.template recv_value<int>();
        ++got;
      } else {
        P::yield();
      }
    }
    t.join();
    EXPECT_EQ(sum, 3);
  }));
}

// Thread's captured exception is a P::Cell: written by the thread, read by join().
TEST_P(DetectorMustNotReport, ThreadExceptionHandedToJoin) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    BasicThread<P> t([] { throw std::runtime_error("from the thread"); });
    t.start();
    EXPECT_THROW(t.join(), std::runtime_error);
  }));
}

// Destroying primitives and cells after the other side's last use is ordered (by join, or by a
// release/acquire flag) is no lifetime race.
TEST_P(DetectorMustNotReport, DestructionAfterOrderedLastUse) {
  INTERLEAVE_EXPECT_PASS(explore_test(options(), []<Platform P>() {
    auto* event = new BasicEvent<P>;
    auto* lock = new BasicMutex<P>;
    auto* cell = new Shared<int, P>(0);
    typename P::template Atomic<std::uint32_t> done{0};
    BasicThread<P> t([&] {
      lock->lock();
      cell->write(1);
      lock->unlock();
      event->set();
      done.store(1, std::memory_order_release);
    });
    t.start();
    while (done.load(std::memory_order_acquire) == 0) P::yield();
    delete event;
    delete lock;
    delete cell;
    t.join();
  }));
}

}  // namespace
}  // namespace interleave
