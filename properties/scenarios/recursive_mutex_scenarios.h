// The body of the RecursiveMutex property that the scoreboard also runs
// (properties/recursive_mutex_properties.cpp has the others), a function of one scenario: the
// property suite runs it over RapidCheck-generated scenarios, and bench/scoreboard/ on one fixed
// scenario per broken recursive mutex under every strategy. It returns a platform-generic body,
// []<Platform P>() {...}, for explore().
#pragma once

#include "interleave/explore.h"
#include "interleave/platform.h"
#include "interleave/thread.h"

namespace interleave::scenarios {

// The lock is released only by the unlock that matches the first lock: another thread (by
// try_lock or lock) never gets it while the holder is between its first lock and last unlock.
template <template <class> class MutexT>
auto released_only_by_the_last_unlock(int depth, bool blocking) {
  return [=]<Platform P>() {
    MutexT<P> lock;
    typename P::template Atomic<int> holder_inside{0};
    BasicThread<P> holder([&] {
      for (int d = 0; d < depth; ++d) lock.lock();
      holder_inside.store(1);
      for (int d = 1; d < depth; ++d) lock.unlock();
      holder_inside.store(0);
      lock.unlock();
    });
    BasicThread<P> other([&] {
      if (blocking) {
        lock.lock();
      } else if (!lock.try_lock()) {
        return;
      }
      INTERLEAVE_ASSERT(holder_inside.load() == 0, "another thread got the lock before the holder's last unlock");
      lock.unlock();
    });
    holder.start();
    other.start();
    holder.join();
    other.join();
  };
}

}  // namespace interleave::scenarios
