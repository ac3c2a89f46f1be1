// The model benchmark's scenarios written for Relacy (relacy-dev), so both tools run the same work
// in one program. Relacy's own headers are old and noisy: this file is built with warnings off.
#include "relacy_scenarios.h"

#include <relacy/relacy.hpp>
#include <sstream>

namespace {

template <bool LockPerIncrement>
struct CounterTest : rl::test_suite<CounterTest<LockPerIncrement>, 2> {
  rl::mutex lock;
  rl::var<int> counter;
  void before() { counter($) = 0; }
  void thread(unsigned) {
    if (LockPerIncrement) {
      for (int i = 0; i < 1000; ++i) {
        lock.lock($);
        counter($) = counter($) + 1;
        lock.unlock($);
      }
    } else {
      lock.lock($);
      for (int i = 0; i < 1000; ++i) counter($) = counter($) + 1;
      lock.unlock($);
    }
  }
  void after() { RL_ASSERT(counter($) == 2000); }
};

// Two producers put 50 items each, two consumers take 50 each, through a bounded queue of
// capacity 4 made of a mutex, two condition variables and a ring of rl::var slots.
struct QueueTest : rl::test_suite<QueueTest, 4> {
  static constexpr int kCapacity = 4;
  rl::mutex lock;
  rl::condition_variable not_full;
  rl::condition_variable not_empty;
  rl::var<int> slots[kCapacity];
  rl::var<int> head;
  rl::var<int> size;
  rl::var<int> taken_sum;
  void before() {
    head($) = 0;
    size($) = 0;
    taken_sum($) = 0;
  }
  void thread(unsigned index) {
    if (index < 2) {
      for (int i = 0; i < 50; ++i) {
        lock.lock($);
        while (size($) == kCapacity) not_full.wait(lock, $);
        slots[(head($) + size($)) % kCapacity]($) = i;
        size($) = size($) + 1;
        not_empty.notify_one($);
        lock.unlock($);
      }
    } else {
      for (int i = 0; i < 50; ++i) {
        lock.lock($);
        while (size($) == 0) not_empty.wait(lock, $);
        const int value = slots[head($)]($);
        head($) = (head($) + 1) % kCapacity;
        size($) = size($) - 1;
        taken_sum($) = taken_sum($) + value;
        not_full.notify_one($);
        lock.unlock($);
      }
    }
  }
  void after() { RL_ASSERT(taken_sum($) == 2 * (49 * 50 / 2)); }
};

// A short test: two threads x 8 increments of one atomic.
struct ShortTest : rl::test_suite<ShortTest, 2> {
  rl::atomic<int> counter;
  void before() { counter($).store(0); }
  void thread(unsigned) {
    for (int i = 0; i < 8; ++i) counter($).fetch_add(1);
  }
  void after() { RL_ASSERT(counter($).load() == 16); }
};

template <class Test>
bool simulate(int schedules) {
  rl::test_params p;
  p.iteration_count = static_cast<rl::iteration_t>(schedules);
  p.search_type = rl::random_scheduler_type;
  p.execution_depth_limit = 1'000'000;  // the default (2000) reports the 2 x 1000 loop as a livelock
  std::ostringstream discard;
  p.output_stream = &discard;
  p.progress_stream = &discard;
  return rl::simulate<Test>(p);
}

}  // namespace

bool relacy_counter(int schedules, bool lock_per_increment) {
  return lock_per_increment ? simulate<CounterTest<true>>(schedules) : simulate<CounterTest<false>>(schedules);
}

bool relacy_queue(int schedules) { return simulate<QueueTest>(schedules); }

bool relacy_short(int schedules) { return simulate<ShortTest>(schedules); }
