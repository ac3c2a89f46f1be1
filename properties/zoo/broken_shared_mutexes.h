// Deliberately broken reader-writer locks: realistic mistakes the SharedMutex properties must
// catch. Each has the interface the properties use (lock / try_lock / unlock and their _shared
// forms) over a platform P, on one word: readers inside, plus a writer bit.
#pragma once

#include <cstdint>

#include "interleave/platform.h"

namespace interleave::zoo {

template <Platform P>
class OneWordSharedMutexBase {
 public:
  bool try_lock_shared() {
    std::uint32_t word = word_.load();
    while ((word & kWriter) == 0) {
      if (word_.compare_exchange_weak(word, word + 1)) return true;
    }
    return false;
  }
  template <class Duration>
  bool try_lock_shared_for(Duration) {  // the timed forms are one try: enough for the properties
    return try_lock_shared();
  }
  void lock_shared() {
    while (!try_lock_shared()) {
      const std::uint32_t word = word_.load();
      if ((word & kWriter) != 0) P::wait(word_, word);
    }
  }
  void unlock_shared() {
    word_.fetch_sub(1);
    P::wake_all(word_);
  }
  void unlock() {
    word_.store(0);
    P::wake_all(word_);
  }

 protected:
  static constexpr std::uint32_t kWriter = 0x80000000U;
  typename P::template Atomic<std::uint32_t> word_{0};
};

// Correct exclusion, but readers first: a reader gets in whenever no writer *holds* the lock, so
// a stream of overlapping readers keeps a waiting writer out for ever.
template <Platform P>
class ReadersFirstSharedMutex : public OneWordSharedMutexBase<P> {
  using Base = OneWordSharedMutexBase<P>;

 public:
  bool try_lock() {
    std::uint32_t expected = 0;
    return Base::word_.compare_exchange_strong(expected, Base::kWriter);
  }
  template <class Duration>
  bool try_lock_for(Duration) {
    return try_lock();
  }
  void lock() {
    for (std::uint32_t expected = 0; !Base::word_.compare_exchange_strong(expected, Base::kWriter); expected = 0) {
      P::wait(Base::word_, expected);
    }
  }
};

// The writer checks that nobody is inside, then claims the lock, in two steps: a reader entering
// in between shares the lock with a writer.
template <Platform P>
class CheckThenClaimWriterSharedMutex : public OneWordSharedMutexBase<P> {
  using Base = OneWordSharedMutexBase<P>;

 public:
  bool try_lock() {
    if (Base::word_.load() != 0) return false;
    Base::word_.store(Base::kWriter);  // should be one compare-exchange from 0
    return true;
  }
  template <class Duration>
  bool try_lock_for(Duration) {
    return try_lock();
  }
  void lock() {
    for (std::uint32_t word = Base::word_.load(); word != 0; word = Base::word_.load()) P::wait(Base::word_, word);
    Base::word_.store(Base::kWriter);
  }
};

}  // namespace interleave::zoo
