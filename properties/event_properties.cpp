// Event: one property per guarantee of its contract (primitives/include/interleave/event.h), under
// the model scheduler over RapidCheck-generated scenarios; the zoo's broken events must fail the
// same properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "interleave/event.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"
#include "scenarios/event_scenarios.h"
#include "zoo/broken_events.h"

namespace interleave {
namespace {

template <Platform P>
using RealEvent = BasicEvent<P>;

// The property bodies are in scenarios/event_scenarios.h; here each runs over generated scenarios.
template <template <class> class EventT>
void set_releases_every_waiter() {
  check_schedules(scenarios::set_releases_every_waiter<EventT>(*rc::gen::inRange(1, 4)));
}

template <template <class> class EventT>
void set_then_clear_releases_those_waiting() {
  check_schedules(scenarios::set_then_clear_releases_those_waiting<EventT>(*rc::gen::inRange(1, 3)));
}

template <template <class> class EventT>
void wait_for_false_only_when_not_set() {
  check_schedules(scenarios::wait_for_false_only_when_not_set<EventT>(*rc::gen::arbitrary<bool>()));
}

INTERLEAVE_PROPERTY(EventProperties, SetReleasesEveryWaiter, ()) { set_releases_every_waiter<RealEvent>(); }
INTERLEAVE_PROPERTY(EventProperties, SetThenClearReleasesThoseWaiting, ()) {
  set_then_clear_releases_those_waiting<RealEvent>();
}
INTERLEAVE_PROPERTY(EventProperties, WaitForFalseOnlyWhenNotSet, ()) { wait_for_false_only_when_not_set<RealEvent>(); }

TEST(EventZoo, LostWakeupIsCaught) {
  EXPECT_FALSE(rc::check("lost wake-up", [] { set_releases_every_waiter<zoo::LostWakeupEvent>(); }));
}
TEST(EventZoo, FlagLoopStrandsWaitersOnSetThenClear) {
  EXPECT_FALSE(rc::check("flag loop", [] { set_then_clear_releases_those_waiting<zoo::FlagLoopEvent>(); }));
}
TEST(EventZoo, SetWakingOneStrandsTheOthers) {
  EXPECT_FALSE(rc::check("set wakes one", [] { set_then_clear_releases_those_waiting<zoo::SetWakesOneEvent>(); }));
}

}  // namespace
}  // namespace interleave
