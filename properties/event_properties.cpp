// Event: one property per guarantee of its contract (primitives/include/interleave/event.h), under
// the model scheduler over RapidCheck-generated scenarios; the zoo's broken events must fail the
// same properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <chrono>

#include "interleave/event.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"
#include "scenarios/event_scenarios.h"
#include "zoo/broken_events.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

template <Platform P>
using RealEvent = BasicEvent<P>;

// The property bodies are in scenarios/event_scenarios.h; here each runs over generated scenarios,
// in the model (check_schedules) or on real threads (check_stress).
template <template <class> class EventT, class Check = decltype(in_model)>
void set_releases_every_waiter(Check check = in_model) {
  check(scenarios::set_releases_every_waiter<EventT>(*rc::gen::inRange(1, 4)));
}

template <template <class> class EventT>
void set_then_clear_releases_those_waiting() {
  check_schedules(scenarios::set_then_clear_releases_those_waiting<EventT>(*rc::gen::inRange(1, 3)));
}

template <template <class> class EventT, class Check = decltype(in_model)>
void wait_for_false_only_when_not_set(Check check = in_model, std::chrono::nanoseconds unset_timeout = 10s) {
  const bool set_it = *rc::gen::arbitrary<bool>();
  check(scenarios::wait_for_false_only_when_not_set<EventT>(set_it, set_it ? 10s : unset_timeout));
}

INTERLEAVE_PROPERTY(EventProperties, SetReleasesEveryWaiter, ()) { set_releases_every_waiter<RealEvent>(); }
INTERLEAVE_PROPERTY(EventProperties, SetThenClearReleasesThoseWaiting, ()) {
  set_then_clear_releases_those_waiting<RealEvent>();
}
INTERLEAVE_PROPERTY(EventProperties, WaitForFalseOnlyWhenNotSet, ()) { wait_for_false_only_when_not_set<RealEvent>(); }

// The same guarantees of the production event on real threads under perturbed timing. Not
// SetThenClearReleasesThoseWaiting: it needs every waiter inside wait_for when set() runs, which
// the model's virtual time arranges and real threads cannot promise.
INTERLEAVE_PROPERTY(EventStressProperties, SetReleasesEveryWaiter, ()) {
  set_releases_every_waiter<RealEvent>(on_real_threads);
}
INTERLEAVE_PROPERTY(EventStressProperties, WaitForFalseOnlyWhenNotSet, ()) {
  wait_for_false_only_when_not_set<RealEvent>(on_real_threads, 2ms);
}

TEST(EventZoo, LostWakeupIsCaught) {
  EXPECT_TRUE(property_fails("lost wake-up", [] { set_releases_every_waiter<zoo::LostWakeupEvent>(); }));
}
TEST(EventZoo, FlagLoopStrandsWaitersOnSetThenClear) {
  EXPECT_TRUE(property_fails("flag loop", [] { set_then_clear_releases_those_waiting<zoo::FlagLoopEvent>(); }));
}
TEST(EventZoo, SetWakingOneStrandsTheOthers) {
  EXPECT_TRUE(property_fails("set wakes one", [] { set_then_clear_releases_those_waiting<zoo::SetWakesOneEvent>(); }));
}

}  // namespace
}  // namespace interleave
