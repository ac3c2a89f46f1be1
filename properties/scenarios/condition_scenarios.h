// The bodies of the Condition properties (properties/condition_properties.cpp), each a function of
// one scenario: the property suite runs them over RapidCheck-generated scenarios, and
// bench/scoreboard/ runs them on one fixed scenario per broken condition variable under every
// strategy. Each returns a platform-generic body, []<Platform P>() {...}, for explore().
//
// A waiter in these bodies announces itself on a semaphore with the lock held, then waits; once
// the main fiber has taken every announcement and then the lock, every waiter has released the
// lock inside wait, so it is waiting.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <ostream>
#include <vector>

#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/platform.h"
#include "interleave/semaphore.h"
#include "interleave/thread.h"

namespace interleave::scenarios {

namespace condition_detail {

template <Platform P>
using Threads = std::vector<std::unique_ptr<BasicThread<P>>>;

// Starts `count` threads, thread t running f(t).
template <Platform P, class F>
void start(Threads<P>& threads, int count, F f) {
  for (int t = 0; t < count; ++t) threads.push_back(std::make_unique<BasicThread<P>>([f, t] { f(t); }));
  for (auto& thread : threads) thread->start();
}

template <Platform P>
void join(Threads<P>& threads) {
  for (auto& thread : threads) thread->join();
}

}  // namespace condition_detail

struct HandOverScenario {
  int consumers;
  int items_each;
  bool notify_under_lock;
};

inline void showValue(const HandOverScenario& s, std::ostream& out) {
  out << s.consumers << " consumers x " << s.items_each << " items, notify "
      << (s.notify_under_lock ? "under" : "after releasing") << " the lock";
}

// No lost wake-up: consumers wait (with a std::unique_lock) for items the main fiber adds one at
// a time, each with a notify_one; every consumer gets its items, none sleeps forever.
template <template <class> class ConditionT>
auto no_lost_wake_up(HandOverScenario s) {
  return [s]<Platform P>() {
    BasicMutex<P> m;
    ConditionT<P> c;
    int items = 0;  // guarded by m
    condition_detail::Threads<P> consumers;
    condition_detail::start<P>(consumers, s.consumers, [&](int) {
      for (int i = 0; i < s.items_each; ++i) {
        std::unique_lock lock(m);
        while (items == 0) c.wait(lock);
        --items;
      }
    });
    for (int i = 0; i < s.consumers * s.items_each; ++i) {
      std::unique_lock lock(m);
      ++items;
      if (!s.notify_under_lock) lock.unlock();
      c.notify_one();
    }
    condition_detail::join<P>(consumers);
    INTERLEAVE_ASSERT(items == 0);
  };
}

// notify_one wakes at most one waiter: with every waiter waiting, k notify_one calls return k
// waiters from wait (no predicate: a return is a wake-up), never more.
template <template <class> class ConditionT>
auto notify_one_wakes_at_most_one(int waiters, int notifies) {
  return [waiters, notifies]<Platform P>() {
    BasicMutex<P> m;
    ConditionT<P> c;
    BasicSemaphore<P> waiting(0);
    int sent = 0;   // guarded by m
    int woken = 0;  // guarded by m
    condition_detail::Threads<P> threads;
    condition_detail::start<P>(threads, waiters, [&](int) {
      m.lock();
      waiting.release();
      c.wait(m);
      ++woken;
      INTERLEAVE_ASSERT(woken <= sent, "more waiters returned from wait than notify_one calls were made");
      m.unlock();
    });
    for (int i = 0; i < waiters; ++i) waiting.acquire();
    for (int i = 0; i < notifies; ++i) {
      std::lock_guard g(m);
      ++sent;
      c.notify_one();
    }
    {
      std::lock_guard g(m);
      sent = waiters;
      c.notify_all();
    }
    condition_detail::join<P>(threads);
  };
}

// notify_all wakes every waiter that is waiting when it is called.
template <template <class> class ConditionT>
auto notify_all_wakes_every_waiter(int waiters) {
  return [waiters]<Platform P>() {
    BasicMutex<P> m;
    ConditionT<P> c;
    BasicSemaphore<P> waiting(0);
    condition_detail::Threads<P> threads;
    condition_detail::start<P>(threads, waiters, [&](int) {
      m.lock();
      waiting.release();
      c.wait(m);
      m.unlock();
    });
    for (int i = 0; i < waiters; ++i) waiting.acquire();
    {
      std::lock_guard g(m);
      c.notify_all();
    }
    condition_detail::join<P>(threads);  // a waiter left asleep is a deadlock
  };
}

// wait_for returns false only when the deadline passed, true only when notified. In the model the
// virtual clock moves only when every fiber is blocked, so a waiter notified by a running fiber is
// notified before its deadline and must return true.
template <template <class> class ConditionT>
auto wait_for_is_false_only_on_timeout(bool notify) {
  return [notify]<Platform P>() {
    using namespace std::chrono_literals;
    BasicMutex<P> m;
    ConditionT<P> c;
    BasicSemaphore<P> waiting(0);
    bool sent = false;  // guarded by m
    BasicThread<P> waiter([&] {
      m.lock();
      waiting.release();
      const auto deadline = P::now() + 10ms;
      const bool notified = c.wait_for(m, 10ms);
      if (notified) {
        INTERLEAVE_ASSERT(sent, "wait_for returned true but nobody notified");
      } else {
        INTERLEAVE_ASSERT(P::now() >= deadline, "wait_for returned false before its deadline");
        INTERLEAVE_ASSERT(!sent, "wait_for returned false although notified before its deadline");
      }
      m.unlock();
    });
    waiter.start();
    waiting.acquire();
    if (notify) {
      std::lock_guard g(m);
      sent = true;
      c.notify_one();
    }
    waiter.join();
  };
}

}  // namespace interleave::scenarios
