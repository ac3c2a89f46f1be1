// Event: one property per guarantee of its contract (primitives/include/interleave/event.h), under
// the model scheduler over RapidCheck-generated scenarios; the zoo's broken events must fail the
// same properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "interleave/event.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"
#include "zoo/broken_events.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

template <Platform P>
using RealEvent = BasicEvent<P>;

// set() releases every waiter, whenever each of them started waiting.
template <template <class> class EventT>
void set_releases_every_waiter() {
  const int waiters = *rc::gen::inRange(1, 4);
  check_schedules([&]<Platform P>() {
    EventT<P> event;
    typename P::template Atomic<int> released{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < waiters; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        event.wait();
        released.fetch_add(1);
      }));
    }
    for (auto& t : threads) t->start();
    event.set();
    for (auto& t : threads) t->join();
    INTERLEAVE_ASSERT(released.load() == waiters);
  });
}

// set() releases the threads waiting at that moment even when clear() follows at once (Python's
// Event semantics). Virtual time passes only while every fiber is blocked: when the pause below
// expires, every waiter is inside wait_for.
template <template <class> class EventT>
void set_then_clear_releases_those_waiting() {
  const int waiters = *rc::gen::inRange(1, 3);
  check_schedules([&]<Platform P>() {
    EventT<P> event;
    typename P::template Atomic<int> released{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < waiters; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        if (event.wait_for(1h)) released.fetch_add(1);
      }));
    }
    for (auto& t : threads) t->start();
    BasicEvent<P> pause;
    (void)pause.wait_for(1ms);
    event.set();
    event.clear();
    for (auto& t : threads) t->join();
    INTERLEAVE_ASSERT(released.load() == waiters);
  });
}

// wait_for returns false only when the event was not set by the deadline.
template <template <class> class EventT>
void wait_for_false_only_when_not_set() {
  const bool set_it = *rc::gen::arbitrary<bool>();
  check_schedules([&]<Platform P>() {
    EventT<P> event;
    bool result = !set_it;
    BasicThread<P> waiter([&] { result = event.wait_for(10s); });
    waiter.start();
    if (set_it) event.set();
    waiter.join();
    INTERLEAVE_ASSERT(result == set_it);
  });
}

RC_GTEST_PROP(EventProperties, SetReleasesEveryWaiter, ()) { set_releases_every_waiter<RealEvent>(); }
RC_GTEST_PROP(EventProperties, SetThenClearReleasesThoseWaiting, ()) {
  set_then_clear_releases_those_waiting<RealEvent>();
}
RC_GTEST_PROP(EventProperties, WaitForFalseOnlyWhenNotSet, ()) { wait_for_false_only_when_not_set<RealEvent>(); }

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
