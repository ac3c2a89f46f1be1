// The bodies of the SharedMutex properties (properties/shared_mutex_properties.cpp), each a
// function of one scenario: the property suite runs them over RapidCheck-generated scenarios, and
// bench/scoreboard/ runs them on one fixed scenario per broken reader-writer lock under every
// strategy. Each returns a platform-generic body, []<Platform P>() {...}, for explore() or
// stress().
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <ostream>
#include <shared_mutex>
#include <vector>

#include "interleave/explore.h"
#include "interleave/platform.h"
#include "interleave/semaphore.h"
#include "interleave/thread.h"

namespace interleave::scenarios {

enum class Side { writers, readers };

struct ExclusionScenario {
  Side checked;  // the side that checks what it sees
  bool tries;    // the try_ forms (try_lock and the timed try_lock_for in turn) instead of blocking
  int writers;
  int readers;
  int rounds;
};

inline void showValue(const ExclusionScenario& s, std::ostream& out) {
  out << s.writers << " writers, " << s.readers << " readers x " << s.rounds << " rounds"
      << (s.tries ? ", try_ forms" : "") << ", " << (s.checked == Side::writers ? "writers" : "readers") << " check";
}

// Writers and readers take the lock (blocking, through std::unique_lock / std::shared_lock, or
// with the try_ forms when `tries`: try_lock and the timed try_lock_for in turn) and count
// themselves inside; the side named checks what it sees: a writer that it is alone, a reader that
// no writer is inside.
template <template <class> class MutexT>
auto exclusion(ExclusionScenario s) {
  return [s]<Platform P>() {
    using namespace std::chrono_literals;
    const Side checked = s.checked;
    const bool tries = s.tries;
    const int writers = s.writers;
    const int readers = s.readers;
    const int rounds = s.rounds;
    MutexT<P> lock;
    typename P::template Atomic<int> writers_inside{0};
    typename P::template Atomic<int> readers_inside{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < writers; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        for (int r = 0; r < rounds; ++r) {
          std::unique_lock guard(lock, std::defer_lock);
          if (tries) {
            if (!(r % 2 == 0 ? guard.try_lock() : guard.try_lock_for(1ms))) continue;
          } else {
            guard.lock();
          }
          const int alone = writers_inside.fetch_add(1) + 1;
          const int readers_seen = readers_inside.load();
          if (checked == Side::writers) {
            INTERLEAVE_ASSERT(alone == 1 && readers_seen == 0, "a writer shares the lock");
          }
          writers_inside.fetch_sub(1);
        }
      }));
    }
    for (int t = 0; t < readers; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        for (int r = 0; r < rounds; ++r) {
          std::shared_lock guard(lock, std::defer_lock);
          if (tries) {
            if (!(r % 2 == 0 ? guard.try_lock() : guard.try_lock_for(1ms))) continue;
          } else {
            guard.lock();
          }
          readers_inside.fetch_add(1);
          const int writers_seen = writers_inside.load();
          if (checked == Side::readers) INTERLEAVE_ASSERT(writers_seen == 0, "a reader shares the lock with a writer");
          readers_inside.fetch_sub(1);
        }
      }));
    }
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
  };
}

// No writer starvation (writers first): reader A is inside; a writer arrives and waits; a reader
// B arriving after the writer announced itself gets in only after the writer (lock_shared) or not
// at all (try_lock_shared). The model's virtual clock orders the arrivals: it moves only when
// every fiber is blocked, so when B wakes from its 5 ms pause the writer is asleep in lock(),
// after its announcement; A leaves at 10 ms.
template <template <class> class MutexT>
auto no_writer_starvation(bool blocking) {
  return [blocking]<Platform P>() {
    using namespace std::chrono_literals;
    MutexT<P> lock;
    BasicSemaphore<P> never(0);  // a pause in virtual time: a timed acquire nobody satisfies
    BasicSemaphore<P> a_inside(0);
    typename P::template Atomic<int> written{0};
    BasicThread<P> reader_a([&] {
      lock.lock_shared();
      a_inside.release(2);  // one for the writer, one for reader B
      (void)never.try_acquire_for(10ms);
      lock.unlock_shared();
    });
    BasicThread<P> writer([&] {
      a_inside.acquire();
      std::lock_guard guard(lock);
      written.store(1);
    });
    BasicThread<P> reader_b([&] {
      a_inside.acquire();
      (void)never.try_acquire_for(5ms);
      if (blocking) {
        std::shared_lock guard(lock);
        INTERLEAVE_ASSERT(written.load() == 1, "a reader got in ahead of a writer waiting before it");
      } else if (lock.try_lock_shared()) {
        INTERLEAVE_ASSERT(written.load() == 1, "try_lock_shared got in ahead of a waiting writer");
        lock.unlock_shared();
      }
    });
    reader_a.start();
    writer.start();
    reader_b.start();
    reader_a.join();
    writer.join();
    reader_b.join();
  };
}

}  // namespace interleave::scenarios
