// The bodies of ownership_steps_test: the same Mutex and SharedMutex programs, compiled once with
// the ownership checks on and once with them off (each translation unit defines
// INTERLEAVE_CHECK_OWNERSHIP before including this, and instantiates the bodies on its own
// platform type, so the two instantiations never meet).
#pragma once

#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "interleave/explore.h"
#include "interleave/model_platform.h"
#include "interleave/mutex.h"
#include "interleave/shared_mutex.h"
#include "interleave/thread.h"

namespace interleave::ownership_steps {

// What an exploration of one body ran: equal samples mean the same schedules were explored.
struct Sample {
  std::uint64_t schedules = 0;
  std::uint64_t total_steps = 0;
  bool passed = false;
};

enum class Body { mutex_counter, shared_mutex_readers_writer };

// Defined twice: ownership_steps_test.cpp (checks on), ownership_steps_unchecked.cpp (checks off).
Sample explore_checked(Body body, Strategy strategy);
Sample explore_unchecked(Body body, Strategy strategy);

// Two threads increment a counter `increments` times each, the lock taken around each increment.
template <class P>
void mutex_counter(int increments) {
  BasicMutex<P> lock;
  int counter = 0;
  auto work = [&] {
    for (int i = 0; i < increments; ++i) {
      std::lock_guard guard(lock);
      ++counter;
    }
  };
  BasicThread<P> a(work);
  BasicThread<P> b(work);
  a.start();
  b.start();
  a.join();
  b.join();
  INTERLEAVE_ASSERT(counter == 2 * increments);
}

// One writer and two readers of a SharedMutex.
template <class P>
void shared_mutex_readers_writer() {
  BasicSharedMutex<P> lock;
  int value = 0;
  BasicThread<P> writer([&] {
    for (int i = 0; i < 3; ++i) {
      std::lock_guard guard(lock);
      ++value;
    }
  });
  auto read = [&] {
    for (int i = 0; i < 2; ++i) {
      std::shared_lock guard(lock);
      INTERLEAVE_ASSERT(value >= 0 && value <= 3);
    }
  };
  BasicThread<P> r1(read);
  BasicThread<P> r2(read);
  writer.start();
  r1.start();
  r2.start();
  writer.join();
  r1.join();
  r2.join();
  INTERLEAVE_ASSERT(value == 3);
}

// Explores `body` on platform P with a fixed seed.
template <class P>
Sample explore_body(Body body, Strategy strategy) {
  Options options;
  options.schedules = 200;
  options.seed = 0x5eed;
  options.strategy = strategy;
  options.shrink_runs = 0;
  const Result r = explore(options, [body]<Platform>() {
    if (body == Body::mutex_counter) {
      mutex_counter<P>(50);
    } else {
      shared_mutex_readers_writer<P>();
    }
  });
  return Sample{r.schedules_run, r.total_steps, r.passed()};
}

}  // namespace interleave::ownership_steps
