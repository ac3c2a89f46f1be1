// The toolkit's part of the bug table: every broken condition variable, barrier, latch, call_once,
// reader-writer lock and recursive mutex of the zoo (properties/zoo/), each on one fixed scenario
// of the property that catches it (properties/scenarios/), and the library's own primitives on the
// same scenarios as controls.
#include <string>
#include <utility>
#include <vector>

#include "../../properties/scenarios/barrier_scenarios.h"
#include "../../properties/scenarios/condition_scenarios.h"
#include "../../properties/scenarios/latch_scenarios.h"
#include "../../properties/scenarios/once_scenarios.h"
#include "../../properties/scenarios/recursive_mutex_scenarios.h"
#include "../../properties/scenarios/shared_mutex_scenarios.h"
#include "../../properties/zoo/broken_barriers.h"
#include "../../properties/zoo/broken_conditions.h"
#include "../../properties/zoo/broken_latches.h"
#include "../../properties/zoo/broken_onces.h"
#include "../../properties/zoo/broken_recursive_mutexes.h"
#include "../../properties/zoo/broken_shared_mutexes.h"
#include "bug_body.h"
#include "interleave/barrier.h"
#include "interleave/condition.h"
#include "interleave/latch.h"
#include "interleave/once.h"
#include "interleave/recursive_mutex.h"
#include "interleave/shared_mutex.h"
#include "scoreboard.h"

namespace scoreboard {
namespace {

namespace scenarios = interleave::scenarios;
namespace zoo = interleave::zoo;

template <Platform P>
using RealCondition = interleave::BasicCondition<P>;
template <Platform P>
using RealBarrier = interleave::BasicBarrier<P>;
template <Platform P>
using RealLatch = interleave::BasicLatch<P>;
template <Platform P>
using RealOnce = interleave::BasicOnce<P>;
template <Platform P>
using RealSharedMutex = interleave::BasicSharedMutex<P>;
template <Platform P>
using RealRecursiveMutex = interleave::BasicRecursiveMutex<P>;

using body::make_zoo_bug;
using body::shown;

// The fixed scenarios: from the middle of the property suites' ranges.
struct ToolkitScenarios {
  scenarios::HandOverScenario hand_over{.consumers = 2, .items_each = 2, .notify_under_lock = false};
  scenarios::PhaseScenario phases{.parties = 3, .phases = 2};
  scenarios::OnceScenario one_run{.callers = 2, .failures = 0, .check_effect = false, .check_count = true};
  scenarios::OnceScenario sees_run{.callers = 2, .failures = 0, .check_effect = true, .check_count = false};
  scenarios::OnceScenario after_throw{.callers = 2, .failures = 1, .check_effect = true, .check_count = true};
  scenarios::ExclusionScenario readers_check{
      .checked = scenarios::Side::readers, .tries = false, .writers = 1, .readers = 2, .rounds = 2};
};

}  // namespace

void add_toolkit_bugs(std::vector<Bug>& bugs) {
  using namespace scenarios;
  const ToolkitScenarios s;
  bugs.push_back(make_zoo_bug("UnlockThenReadCondition", "NoLostWakeUp", shown(s.hand_over),
                              no_lost_wake_up<zoo::UnlockThenReadCondition>(s.hand_over)));
  bugs.push_back(make_zoo_bug("NotifyOneWakesAllCondition", "NotifyOneWakesAtMostOne", "3 waiters, 1 notify_one",
                              notify_one_wakes_at_most_one<zoo::NotifyOneWakesAllCondition>(3, 1)));
  bugs.push_back(make_zoo_bug("NotifyAllWakesOneCondition", "NotifyAllWakesEveryWaiter", "2 waiters",
                              notify_all_wakes_every_waiter<zoo::NotifyAllWakesOneCondition>(2)));
  bugs.push_back(make_zoo_bug("SpuriousTrueCondition", "WaitForIsFalseOnlyOnTimeout", "no notify",
                              wait_for_is_false_only_on_timeout<zoo::SpuriousTrueCondition>(false)));
  bugs.push_back(make_zoo_bug("LastButOneReleasesBarrier", "NobodyLeavesAPhaseBeforeAllArrive", shown(s.phases),
                              phases<zoo::LastButOneReleasesBarrier>(s.phases)));
  bugs.push_back(make_zoo_bug("CompletionAfterReleaseBarrier", "NobodyLeavesAPhaseBeforeAllArrive", shown(s.phases),
                              phases<zoo::CompletionAfterReleaseBarrier>(s.phases)));
  bugs.push_back(make_zoo_bug("OffByOneLatch", "WaitReturnsOnlyAfterEveryCountDown", "2 parties, 1 waiter",
                              wait_returns_only_after_every_count_down<zoo::OffByOneLatch>(2, 1)));
  bugs.push_back(make_zoo_bug("LoadStoreLatch", "NobodyLeavesArriveAndWaitEarly", "2 parties",
                              nobody_leaves_arrive_and_wait_early<zoo::LoadStoreLatch>(2)));
  bugs.push_back(make_zoo_bug("CheckThenRunOnce", "ExactlyOneSuccessfulRun", shown(s.one_run),
                              once_callers<zoo::CheckThenRunOnce>(s.one_run)));
  bugs.push_back(make_zoo_bug("NoWaitOnce", "EveryCallerSeesTheRun", shown(s.sees_run),
                              once_callers<zoo::NoWaitOnce>(s.sees_run)));
  bugs.push_back(make_zoo_bug("StuckAfterExceptionOnce", "AnExceptionLetsAnotherCallerRun", shown(s.after_throw),
                              once_callers<zoo::StuckAfterExceptionOnce>(s.after_throw)));
  bugs.push_back(make_zoo_bug("CheckThenClaimWriterSharedMutex", "ReadersExcludeWriters", shown(s.readers_check),
                              exclusion<zoo::CheckThenClaimWriterSharedMutex>(s.readers_check)));
  bugs.push_back(make_zoo_bug("ReadersFirstSharedMutex", "NoWriterStarvation", "blocking reader",
                              no_writer_starvation<zoo::ReadersFirstSharedMutex>(true)));
  bugs.push_back(make_zoo_bug("ReleaseOnFirstUnlockRecursiveMutex", "ReleasedOnlyByTheLastUnlock", "depth 2, blocking",
                              released_only_by_the_last_unlock<zoo::ReleaseOnFirstUnlockRecursiveMutex>(2, true)));
}

void add_toolkit_controls(std::vector<Bug>& bugs) {
  using namespace scenarios;
  const ToolkitScenarios s;
  bugs.push_back(
      make_zoo_bug("Condition", "NoLostWakeUp", shown(s.hand_over), no_lost_wake_up<RealCondition>(s.hand_over), true));
  bugs.push_back(make_zoo_bug("Condition", "NotifyOneWakesAtMostOne", "3 waiters, 1 notify_one",
                              notify_one_wakes_at_most_one<RealCondition>(3, 1), true));
  bugs.push_back(make_zoo_bug("Condition", "NotifyAllWakesEveryWaiter", "2 waiters",
                              notify_all_wakes_every_waiter<RealCondition>(2), true));
  bugs.push_back(make_zoo_bug("Condition", "WaitForIsFalseOnlyOnTimeout", "no notify",
                              wait_for_is_false_only_on_timeout<RealCondition>(false), true));
  bugs.push_back(make_zoo_bug("Barrier", "NobodyLeavesAPhaseBeforeAllArrive", shown(s.phases),
                              phases<RealBarrier>(s.phases), true));
  bugs.push_back(make_zoo_bug("Latch", "WaitReturnsOnlyAfterEveryCountDown", "2 parties, 1 waiter",
                              wait_returns_only_after_every_count_down<RealLatch>(2, 1), true));
  bugs.push_back(make_zoo_bug("Latch", "NobodyLeavesArriveAndWaitEarly", "2 parties",
                              nobody_leaves_arrive_and_wait_early<RealLatch>(2), true));
  bugs.push_back(
      make_zoo_bug("Once", "ExactlyOneSuccessfulRun", shown(s.one_run), once_callers<RealOnce>(s.one_run), true));
  bugs.push_back(
      make_zoo_bug("Once", "EveryCallerSeesTheRun", shown(s.sees_run), once_callers<RealOnce>(s.sees_run), true));
  bugs.push_back(make_zoo_bug("Once", "AnExceptionLetsAnotherCallerRun", shown(s.after_throw),
                              once_callers<RealOnce>(s.after_throw), true));
  bugs.push_back(make_zoo_bug("SharedMutex", "ReadersExcludeWriters", shown(s.readers_check),
                              exclusion<RealSharedMutex>(s.readers_check), true));
  bugs.push_back(make_zoo_bug("SharedMutex", "NoWriterStarvation", "blocking reader",
                              no_writer_starvation<RealSharedMutex>(true), true));
  bugs.push_back(make_zoo_bug("RecursiveMutex", "ReleasedOnlyByTheLastUnlock", "depth 2, blocking",
                              released_only_by_the_last_unlock<RealRecursiveMutex>(2, true), true));
}

}  // namespace scoreboard
