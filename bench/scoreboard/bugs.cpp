// The scoreboard's bug table: every zoo bug (properties/zoo/) with the property and fixed scenario
// that catch it, and the controls (the library's correct primitives on the same scenarios).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../../properties/scenarios/event_scenarios.h"
#include "../../properties/scenarios/mutex_scenarios.h"
#include "../../properties/scenarios/pipe_scenarios.h"
#include "../../properties/scenarios/queue_scenarios.h"
#include "../../properties/scenarios/semaphore_scenarios.h"
#include "../../properties/zoo/broken_events.h"
#include "../../properties/zoo/broken_mutexes.h"
#include "../../properties/zoo/broken_pipes.h"
#include "../../properties/zoo/broken_queues.h"
#include "../../properties/zoo/broken_semaphores.h"
#include "bug_body.h"
#include "interleave/event.h"
#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/native_platform.h"
#include "interleave/semaphore.h"
#include "interleave/stress.h"
#include "scoreboard.h"

namespace scoreboard {
namespace {

namespace scenarios = interleave::scenarios;
namespace zoo = interleave::zoo;

using body::make_zoo_bug;
using body::shown;

template <Platform P>
using RealMutex = interleave::BasicMutex<P>;
template <Platform P>
using RealSemaphore = interleave::BasicSemaphore<P>;
template <Platform P>
using RealEvent = interleave::BasicEvent<P>;

// The fixed scenarios: the shape the property suites generate, values from the middle of their
// ranges (properties/*_properties.cpp), except where a bug needs the edge of a range to show.
struct FixedScenarios {
  scenarios::CounterScenario counter{.threads = 2, .increments = 2};
  scenarios::SemaphoreScenario semaphore{.permits = 1, .threads = 2, .rounds = 2};
  scenarios::QueueScenario queue{.capacity = 2, .producers = 2, .consumers = 2, .items_per_producer = 2};
  scenarios::QueueScenario close{.capacity = 2, .producers = 1, .consumers = 2, .items_per_producer = 2};
  std::vector<int> messages{3, 1, 4};
};

void add_zoo_bugs(std::vector<Bug>& bugs, const FixedScenarios& fixed) {
  using namespace scenarios;
  const auto& [counter, semaphore, queue, close, messages] = fixed;
  bugs.push_back(make_zoo_bug("CheckThenSetMutex", "MutualExclusion", shown(counter),
                              mutual_exclusion<zoo::CheckThenSetMutex>(counter)));
  bugs.push_back(make_zoo_bug("MissingWakeMutex", "MutualExclusion", shown(counter),
                              mutual_exclusion<zoo::MissingWakeMutex>(counter)));
  bugs.push_back(make_zoo_bug("RacyTryLockMutex", "TryLockNeverGrantsAHeldLock", "3 threads (2 lock, 1 try_lock)",
                              try_lock_never_grants_a_held_lock<zoo::RacyTryLockMutex>(3)));
  bugs.push_back(make_zoo_bug(
      "CheckThenDecrementSemaphore", "HoldersNeverExceedPermitsAndPermitsAreConserved", shown(semaphore),
      holders_never_exceed_permits_and_permits_are_conserved<zoo::CheckThenDecrementSemaphore>(semaphore)));
  bugs.push_back(make_zoo_bug("WakeBeforeAddSemaphore", "ReleaseNAdmitsNWaiters", "2 waiters, release(2)",
                              release_n_admits_n_waiters<zoo::WakeBeforeAddSemaphore>(2)));
  bugs.push_back(make_zoo_bug("ReleaseNWakesOneSemaphore", "ReleaseNAdmitsNWaiters", "2 waiters, release(2)",
                              release_n_admits_n_waiters<zoo::ReleaseNWakesOneSemaphore>(2)));
  bugs.push_back(make_zoo_bug("LostWakeupEvent", "SetReleasesEveryWaiter", "2 waiters",
                              set_releases_every_waiter<zoo::LostWakeupEvent>(2)));
  bugs.push_back(make_zoo_bug("FlagLoopEvent", "SetThenClearReleasesThoseWaiting", "2 waiters, 1 ms pause",
                              set_then_clear_releases_those_waiting<zoo::FlagLoopEvent>(2)));
  bugs.push_back(make_zoo_bug("SetWakesOneEvent", "SetThenClearReleasesThoseWaiting", "2 waiters, 1 ms pause",
                              set_then_clear_releases_those_waiting<zoo::SetWakesOneEvent>(2)));
  bugs.push_back(make_zoo_bug("UnlockedTailQueue", "PerProducerFifoNothingLostOrDuplicated", shown(queue),
                              fifo_nothing_lost_or_duplicated<zoo::UnlockedTailQueue>(queue)));
  bugs.push_back(make_zoo_bug("NotifyBeforePublishQueue", "PerProducerFifoNothingLostOrDuplicated", shown(queue),
                              fifo_nothing_lost_or_duplicated<zoo::NotifyBeforePublishQueue>(queue)));
  bugs.push_back(make_zoo_bug("CloseWithoutWakeQueue", "CloseDrainsThenRefuses", "capacity 2, 2 items, 2 consumers",
                              close_drains_then_refuses<zoo::CloseWithoutWakeQueue>(close)));
  bugs.push_back(make_zoo_bug("CloseWithoutWakePipe", "OrderThenEndOfStream", "capacity 1, 3 messages",
                              order_then_end_of_stream<zoo::CloseWithoutWakePipe>(1, messages)));
  bugs.push_back(make_zoo_bug("EofBeforeDrainPipe", "CloseKeepsDataUntilDrained", "2 messages, capacity 4",
                              close_keeps_data_until_drained<zoo::EofBeforeDrainPipe>(2)));
  // Capacity 1: the receiver that slept through a message stays asleep only while the ring is full
  // (the next send's wake-up would rescue it).
  bugs.push_back(make_zoo_bug("WakeBeforePublishPipe", "OrderThenEndOfStream", "capacity 1, 3 messages",
                              order_then_end_of_stream<zoo::WakeBeforePublishPipe>(1, messages)));
  bugs.push_back(make_zoo_bug("PollIgnoresClosePipe", "PollReportsReadinessAndConsumesNothing",
                              "capacity 1, 3 messages, closed",
                              poll_reports_readiness<zoo::PollIgnoresClosePipe>(1, messages, true)));
}

// Controls: the library's own primitives on the same scenarios. A failure here would mean the
// scenario, not the primitive, is at fault on that strategy (a false positive in the bug rows).
void add_controls(std::vector<Bug>& bugs, const FixedScenarios& fixed) {
  using namespace scenarios;
  const auto& [counter, semaphore, queue, close, messages] = fixed;
  bugs.push_back(make_zoo_bug("Mutex", "MutualExclusion", shown(counter), mutual_exclusion<RealMutex>(counter), true));
  bugs.push_back(make_zoo_bug("Mutex", "TryLockNeverGrantsAHeldLock", "3 threads (2 lock, 1 try_lock)",
                              try_lock_never_grants_a_held_lock<RealMutex>(3), true));
  bugs.push_back(make_zoo_bug("Semaphore", "HoldersNeverExceedPermitsAndPermitsAreConserved", shown(semaphore),
                              holders_never_exceed_permits_and_permits_are_conserved<RealSemaphore>(semaphore), true));
  bugs.push_back(make_zoo_bug("Semaphore", "ReleaseNAdmitsNWaiters", "2 waiters, release(2)",
                              release_n_admits_n_waiters<RealSemaphore>(2), true));
  bugs.push_back(
      make_zoo_bug("Event", "SetReleasesEveryWaiter", "2 waiters", set_releases_every_waiter<RealEvent>(2), true));
  bugs.push_back(make_zoo_bug("Event", "SetThenClearReleasesThoseWaiting", "2 waiters, 1 ms pause",
                              set_then_clear_releases_those_waiting<RealEvent>(2), true));
  bugs.push_back(make_zoo_bug("Queue", "PerProducerFifoNothingLostOrDuplicated", shown(queue),
                              fifo_nothing_lost_or_duplicated<RealQueue>(queue), true));
  bugs.push_back(make_zoo_bug("Queue", "CloseDrainsThenRefuses", "capacity 2, 2 items, 2 consumers",
                              close_drains_then_refuses<RealQueue>(close), true));
  bugs.push_back(make_zoo_bug("Pipe", "OrderThenEndOfStream", "capacity 1, 3 messages",
                              order_then_end_of_stream<RealPipe>(1, messages), true));
  bugs.push_back(make_zoo_bug("Pipe", "CloseKeepsDataUntilDrained", "2 messages, capacity 4",
                              close_keeps_data_until_drained<RealPipe>(2), true));
  bugs.push_back(make_zoo_bug("Pipe", "PollReportsReadinessAndConsumesNothing", "capacity 1, 3 messages, closed",
                              poll_reports_readiness<RealPipe>(1, messages, true), true));
}

}  // namespace

std::vector<Bug> all_bugs() {
  const FixedScenarios fixed;
  std::vector<Bug> bugs;
  add_zoo_bugs(bugs, fixed);
  add_toolkit_bugs(bugs);
  add_controls(bugs, fixed);
  add_toolkit_controls(bugs);
  add_published_bugs(bugs);
  return bugs;
}

}  // namespace scoreboard
