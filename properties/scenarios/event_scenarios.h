// The bodies of the Event properties (properties/event_properties.cpp), each a function of one
// scenario: the property suite runs them over RapidCheck-generated scenarios, and
// bench/scoreboard/ runs them on one fixed scenario per broken event under every strategy.
// Each returns a platform-generic body, []<Platform P>() {...}, for explore() or stress().
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "interleave/event.h"
#include "interleave/explore.h"
#include "interleave/platform.h"
#include "interleave/thread.h"

namespace interleave::scenarios {

// set() releases every waiter, whenever each of them started waiting.
template <template <class> class EventT>
auto set_releases_every_waiter(int waiters) {
  return [waiters]<Platform P>() {
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
  };
}

// set() releases the threads waiting at that moment even when clear() follows at once (Python's
// Event semantics). Under the model, virtual time passes only while every fiber is blocked: when
// the pause below expires, every waiter is inside wait_for. On real threads the pause is a real
// millisecond: a waiter that starts waiting later than that is outside the guarantee.
template <template <class> class EventT>
auto set_then_clear_releases_those_waiting(int waiters) {
  return [waiters]<Platform P>() {
    using namespace std::chrono_literals;
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
  };
}

// wait_for returns false only when the event was not set by the deadline. The timeout is virtual
// time in the model; on real threads a set() comes well within the default, and a short timeout
// keeps the unset case quick.
template <template <class> class EventT>
auto wait_for_false_only_when_not_set(bool set_it, std::chrono::nanoseconds timeout = std::chrono::seconds(10)) {
  return [set_it, timeout]<Platform P>() {
    EventT<P> event;
    bool result = !set_it;
    BasicThread<P> waiter([&] { result = event.wait_for(timeout); });
    waiter.start();
    if (set_it) event.set();
    waiter.join();
    INTERLEAVE_ASSERT(result == set_it);
  };
}

}  // namespace interleave::scenarios
