// Deliberately broken recursive mutexes: realistic mistakes the RecursiveMutex properties must
// catch. Each has the interface the properties use (lock / try_lock / unlock) over a platform P.
#pragma once

#include <cstdint>

#include "interleave/mutex.h"
#include "interleave/platform.h"

namespace interleave::zoo {

// Counts nested locks but releases the underlying lock on the first unlock: another thread gets
// in while the holder is still inside its outer critical section.
template <Platform P>
class ReleaseOnFirstUnlockRecursiveMutex {
 public:
  void lock() {
    if (owner_.load() == P::this_thread_id()) {
      count_.fetch_add(1);
      return;
    }
    mutex_.lock();
    owner_.store(P::this_thread_id());
    count_.store(1);
  }
  bool try_lock() {
    if (owner_.load() == P::this_thread_id()) {
      count_.fetch_add(1);
      return true;
    }
    if (!mutex_.try_lock()) return false;
    owner_.store(P::this_thread_id());
    count_.store(1);
    return true;
  }
  void unlock() {
    count_.fetch_sub(1);
    if (owner_.load() == P::this_thread_id()) {  // should release only when count_ reaches 0
      owner_.store(0);
      mutex_.unlock();
    }
  }

 private:
  BasicMutex<P> mutex_;
  typename P::template Atomic<std::uint32_t> owner_{0};
  // Atomic so that the mistake is the lock's logic and not also a data race: a real ThreadSanitizer
  // build would otherwise stop at the race on the count before the property sees the bug.
  typename P::template Atomic<std::uint32_t> count_{0};
};

// Right for its holder, but unlock trusts its caller: a thread that does not hold the lock
// releases it silently instead of being reported.
template <Platform P>
class UncheckedOwnerRecursiveMutex {
 public:
  void lock() {
    if (owner_.load() == P::this_thread_id()) {
      ++count_;
      return;
    }
    while (word_.exchange(1) != 0) P::wait(word_, 1);
    owner_.store(P::this_thread_id());
    count_ = 1;
  }
  bool try_lock() {
    if (owner_.load() == P::this_thread_id()) {
      ++count_;
      return true;
    }
    if (word_.exchange(1) != 0) return false;
    owner_.store(P::this_thread_id());
    count_ = 1;
    return true;
  }
  void unlock() {  // should check that the caller is owner_
    if (--count_ != 0) return;
    owner_.store(0);
    word_.store(0);
    P::wake_one(word_);
  }

 private:
  typename P::template Atomic<std::uint32_t> word_{0};
  typename P::template Atomic<std::uint32_t> owner_{0};
  std::uint32_t count_ = 0;
};

}  // namespace interleave::zoo
