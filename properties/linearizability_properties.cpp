// Linearizability of Queue, Semaphore, Event, Mutex and Pipe: every history of a generated
// concurrent scenario, under every explored schedule, is explained by some order of its calls that
// respects real time, against the sequential specifications in linearizability_specs.h. Calls
// still asleep when a run ends quiescent must be ones the specification would keep waiting too,
// so lost wake-ups fail here as well. The zoo's broken primitives must fail the same properties
// wherever their bug shows in what the calls return or in who is left asleep.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <iostream>
#include <string>

#include "interleave/parallel_state_machine.h"
#include "interleave/rapidcheck.h"
#include "linearizability_specs.h"
#include "zoo/broken_events.h"
#include "zoo/broken_mutexes.h"
#include "zoo/broken_pipes.h"
#include "zoo/broken_queues.h"
#include "zoo/broken_semaphores.h"

namespace interleave {
namespace {

using specs::P;

template <template <class> class Queue>
void queue_is_linearizable() {
  check_linearizable(specs::QueueSpec<Queue<P>>{*rc::gen::inRange(1, 4).as("capacity")});
}
template <template <class> class Semaphore>
void semaphore_is_linearizable() {
  check_linearizable(specs::SemaphoreSpec<Semaphore<P>>{*rc::gen::inRange(0, 3).as("initial permits")});
}
template <template <class> class Event>
void event_is_linearizable() {
  check_linearizable(specs::EventSpec<Event<P>>{});
}
template <template <class> class Mutex>
void mutex_is_linearizable() {
  check_linearizable(specs::MutexSpec<Mutex<P>>{});
}
template <template <class> class Pipe>
void pipe_is_linearizable() {
  check_linearizable(specs::PipeSpec<Pipe<P>>{});
}

INTERLEAVE_PROPERTY(LinearizabilityProperties, QueueIsLinearizable, ()) { queue_is_linearizable<specs::RealQueue>(); }
INTERLEAVE_PROPERTY(LinearizabilityProperties, SemaphoreIsLinearizable, ()) {
  semaphore_is_linearizable<BasicSemaphore>();
}
INTERLEAVE_PROPERTY(LinearizabilityProperties, EventIsLinearizable, ()) { event_is_linearizable<BasicEvent>(); }
INTERLEAVE_PROPERTY(LinearizabilityProperties, MutexIsLinearizable, ()) { mutex_is_linearizable<BasicMutex>(); }
INTERLEAVE_PROPERTY(LinearizabilityProperties, PipeIsLinearizable, ()) { pipe_is_linearizable<specs::RealPipe>(); }

// Runs the property on a broken primitive: it must fail, and fail as a linearizability violation
// (not, say, a deadlock in the test's own teardown), printing the shrunk history. Some bugs show
// only in a few scenario shapes (the end-of-stream pipe: about one RapidCheck seed in ten missed it
// in 100 cases), so the check runs again from the next seeds, up to four runs, and must fail in
// one of them. rc::check takes its seed from the process-wide configuration; the seed of each run
// is set through rc::detail::checkTestable, the function rc::check itself calls.
template <class Property>
void expect_not_linearizable(const char* name, Property property) {
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  rc::detail::TestMetadata metadata;
  metadata.id = name;
  metadata.description = name;
  bool passed = true;
  std::string output;
  for (int run = 0; run < 4 && passed; ++run, ++params.seed) {
    testing::internal::CaptureStderr();
    const rc::detail::TestResult result = rc::detail::checkTestable(property, metadata, params);
    rc::detail::printResultMessage(result, std::cerr);
    std::cerr << "\n";
    output = testing::internal::GetCapturedStderr();
    passed = result.template is<rc::detail::SuccessResult>();
  }
  std::cerr << output;  // the shrunk scenario and its history, for the reader
  EXPECT_FALSE(passed) << name << " passed four runs of 100 cases";
  EXPECT_NE(output.find("history not linearizable"), std::string::npos) << output;
}

TEST(LinearizabilityZoo, QueueWithUnlockedTail) {
  expect_not_linearizable("unlocked tail", [] { queue_is_linearizable<zoo::UnlockedTailQueue>(); });
}
TEST(LinearizabilityZoo, QueueNotifyingBeforePublishing) {
  expect_not_linearizable("notify before publish", [] { queue_is_linearizable<zoo::NotifyBeforePublishQueue>(); });
}
TEST(LinearizabilityZoo, QueueClosingWithoutWake) {
  expect_not_linearizable("close without wake", [] { queue_is_linearizable<zoo::CloseWithoutWakeQueue>(); });
}
TEST(LinearizabilityZoo, SemaphoreCheckingThenDecrementing) {
  expect_not_linearizable("check then decrement",
                          [] { semaphore_is_linearizable<zoo::CheckThenDecrementSemaphore>(); });
}
TEST(LinearizabilityZoo, SemaphoreWakingBeforeAdding) {
  expect_not_linearizable("wake before add", [] { semaphore_is_linearizable<zoo::WakeBeforeAddSemaphore>(); });
}
TEST(LinearizabilityZoo, SemaphoreReleaseNWakingOne) {
  expect_not_linearizable("release(n) wakes one", [] { semaphore_is_linearizable<zoo::ReleaseNWakesOneSemaphore>(); });
}
TEST(LinearizabilityZoo, EventSetWakingOne) {
  expect_not_linearizable("set wakes one", [] { event_is_linearizable<zoo::SetWakesOneEvent>(); });
}
TEST(LinearizabilityZoo, EventWithLostWakeup) {
  expect_not_linearizable("lost wake-up", [] { event_is_linearizable<zoo::LostWakeupEvent>(); });
}
TEST(LinearizabilityZoo, MutexCheckingThenSetting) {
  expect_not_linearizable("check then set", [] { mutex_is_linearizable<zoo::CheckThenSetMutex>(); });
}
TEST(LinearizabilityZoo, MutexMissingAWake) {
  expect_not_linearizable("missing wake", [] { mutex_is_linearizable<zoo::MissingWakeMutex>(); });
}
TEST(LinearizabilityZoo, MutexWithRacyTryLock) {
  expect_not_linearizable("racy try_lock", [] { mutex_is_linearizable<zoo::RacyTryLockMutex>(); });
}
TEST(LinearizabilityZoo, PipeClosingWithoutWake) {
  expect_not_linearizable("close without wake", [] { pipe_is_linearizable<zoo::CloseWithoutWakePipe>(); });
}
TEST(LinearizabilityZoo, PipeReportingEndOfStreamBeforeDraining) {
  expect_not_linearizable("eof before drain", [] { pipe_is_linearizable<zoo::EofBeforeDrainPipe>(); });
}
TEST(LinearizabilityZoo, PipeWakingBeforePublishing) {
  expect_not_linearizable("wake before publish", [] { pipe_is_linearizable<zoo::WakeBeforePublishPipe>(); });
}

// FlagLoopEvent's bug breaks a guarantee stronger than linearizability: a set() followed at once
// by clear() must still release every thread waiting at the time. A waiter stranded that way sits
// in a state where the flag is down, which a linearizable wait() may wait in; its history is
// linearizable. event_properties.cpp catches it (SetThenClearReleasesThoseWaiting).
TEST(LinearizabilityZoo, EventFlagLoopStrandsWaitersInALinearizableWay) {
  EXPECT_TRUE(rc::check("flag loop", [] { event_is_linearizable<zoo::FlagLoopEvent>(); }));
}

// Queue::try_get is left out of the Queue specification, and this pins why. The queue is Vyukov's
// bounded ring: a put that claimed the front slot but has not filled it yet hides the items of
// later puts that did complete, and try_get reports empty ("nothing published at the front", as
// detail/ring.h says) although a put that returned before the try_get began left an item. No
// order explains that, so the non-blocking get is not linearizable; get() waits for the slot and
// is.
struct QueueTryGetSpec : specs::QueueSpec<BasicQueue<int, P>> {
  struct TryGet : Command<Model, Sut, specs::Reply> {
    specs::Reply apply(Model& m) const override {
      if (m.items.empty()) return m.closed ? specs::Reply::closed() : specs::Reply::empty();
      const int v = m.items.front();
      m.items.pop_front();
      return specs::Reply::of(v);
    }
    specs::Reply run(Sut& s) const override {
      QueueResult<int> r = s.queue.try_get();
      if (r.ok()) return specs::Reply::of(r.value());
      return r.status() == QueueStatus::closed ? specs::Reply::closed() : specs::Reply::empty();
    }
    void show(std::ostream& out) const override { out << "try_get()"; }
  };
};

TEST(LinearizabilityFindings, QueueTryGetCanReportEmptyBesideACompletedPut) {
  using Put = QueueTryGetSpec::Put;
  using TryGet = QueueTryGetSpec::TryGet;
  ParallelScenario<Command<QueueTryGetSpec::Model, QueueTryGetSpec::Sut, specs::Reply>> s;
  s.threads = {{std::make_shared<Put>(1)}, {std::make_shared<Put>(2), std::make_shared<TryGet>()}};
  Options options;
  options.schedules = 2000;
  const Result r = explore_parallel(QueueTryGetSpec{{4}}, s, options);
  ASSERT_TRUE(r.failed()) << "try_get was linearizable in every schedule";
  const std::string report = r.report();
  EXPECT_NE(report.find("history not linearizable"), std::string::npos) << report;
  EXPECT_NE(report.find("try_get() would return 1, but returned empty"), std::string::npos) << report;
  std::cout << "What the checker reports for Queue::try_get:\n" << report;
}

}  // namespace
}  // namespace interleave
