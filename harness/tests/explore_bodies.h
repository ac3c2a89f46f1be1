// The bodies and options the explore tests share (explore_test, reproduce_token_test,
// failure_report_test, crash_report_test): the tutorial's counter, with and without its lock.
#pragma once

#include <cstdint>
#include <mutex>

#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/thread.h"

namespace interleave::explore_bodies {

// The tutorial's counter with its increment made of two scheduling points (a read, then a
// write), so that an unprotected increment can lose an update.
template <Platform P>
void add_one(typename P::template Atomic<std::uint32_t>& counter) {
  const std::uint32_t value = counter.load(std::memory_order_relaxed);
  counter.store(value + 1, std::memory_order_relaxed);
}

struct LockedCounter {
  int increments = 1000;
  template <Platform P>
  void operator()() const {
    BasicMutex<P> lock;
    typename P::template Atomic<std::uint32_t> counter{0};
    auto increment = [&] {
      std::lock_guard guard(lock);
      for (int i = 0; i < increments; ++i) add_one<P>(counter);
    };
    BasicThread<P> thread1(increment);
    BasicThread<P> thread2(increment);
    thread1.start();
    thread2.start();
    thread1.join();
    thread2.join();
    INTERLEAVE_ASSERT(counter.load() == 2U * static_cast<std::uint32_t>(increments));
  }
};

struct UnlockedCounter {
  int increments = 1000;
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<std::uint32_t> counter{0};
    auto increment = [&] {
      for (int i = 0; i < increments; ++i) add_one<P>(counter);
    };
    BasicThread<P> thread1(increment);
    BasicThread<P> thread2(increment);
    thread1.start();
    thread2.start();
    thread1.join();
    thread2.join();
    INTERLEAVE_ASSERT(counter.load() == 2U * static_cast<std::uint32_t>(increments));
  }
};

inline Options with_schedules(std::uint64_t n, Strategy strategy = Strategy::random_walk) {
  Options o;
  o.schedules = n;
  o.strategy = strategy;
  return o;
}

}  // namespace interleave::explore_bodies
