// Deliberately broken primitives whose only mistake is a memory order: correct when every atomic
// operation is sequentially consistent, wrong under the C++ memory model. The weak memory model
// (Options::memory_model = weak) must catch each; the sc model cannot.
#pragma once

#include <atomic>
#include <cstdint>

#include "interleave/platform.h"

namespace interleave::zoo {

// A futex lock whose unlock is a relaxed store: the next holder's acquiring CAS synchronizes with
// nothing, so the writes of the critical section before the unlock need not be visible to it.
template <Platform P>
class RelaxedUnlockMutex {
 public:
  void lock() {
    for (;;) {
      std::uint32_t expected = 0;
      if (state_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
      P::wait(state_, 1);
    }
  }
  bool try_lock() {
    std::uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() {
    state_.store(0, std::memory_order_relaxed);  // should be memory_order_release
    P::wake_one(state_);
  }

 private:
  typename P::template Atomic<std::uint32_t> state_{0};
};

// Peterson's lock for two threads (0 and 1) with release stores and acquire loads. It needs
// seq_cst: each thread's store of its flag must be ordered before its load of the other's flag,
// which release/acquire does not do (store buffering), so both threads can enter.
template <Platform P>
class AcquireReleasePetersonLock {
 public:
  void lock(int me) {
    const int other = 1 - me;
    flag_[me].store(1, std::memory_order_release);
    turn_.store(static_cast<std::uint32_t>(other), std::memory_order_release);
    while (flag_[other].load(std::memory_order_acquire) == 1 &&
           turn_.load(std::memory_order_acquire) == static_cast<std::uint32_t>(other)) {
      P::relax();
    }
  }
  void unlock(int me) { flag_[me].store(0, std::memory_order_release); }

 private:
  typename P::template Atomic<std::uint32_t> flag_[2] = {0, 0};
  typename P::template Atomic<std::uint32_t> turn_{0};
};

// The same lock with seq_cst, as Peterson's algorithm needs: the control.
template <Platform P>
class SeqCstPetersonLock {
 public:
  void lock(int me) {
    const int other = 1 - me;
    flag_[me].store(1);
    turn_.store(static_cast<std::uint32_t>(other));
    while (flag_[other].load() == 1 && turn_.load() == static_cast<std::uint32_t>(other)) P::relax();
  }
  void unlock(int me) { flag_[me].store(0); }

 private:
  typename P::template Atomic<std::uint32_t> flag_[2] = {0, 0};
  typename P::template Atomic<std::uint32_t> turn_{0};
};

// A one-shot event over an event count (detail/condition.h's lock-free protocol) with acquire/
// release where the protocol needs seq_cst: set() stores the flag and then reads whether anyone
// registered; wait() registers and then re-checks the flag. Each side can read the other's
// older value (store buffering), so the waiter sleeps through the only set().
template <Platform P, std::memory_order Order = std::memory_order_acq_rel>
class EventCountEvent {
  static constexpr std::memory_order kStore =
      Order == std::memory_order_seq_cst ? std::memory_order_seq_cst : std::memory_order_release;
  static constexpr std::memory_order kLoad =
      Order == std::memory_order_seq_cst ? std::memory_order_seq_cst : std::memory_order_acquire;

 public:
  void set() {
    flag_.store(1, kStore);
    if ((word_.load(kLoad) & 1U) != 0) {
      word_.fetch_add(1, Order);  // clears the waiter bit, next generation
      P::wake_all(word_);
    }
  }
  void wait() {
    for (;;) {
      if (flag_.load(kLoad) == 1) return;
      const std::uint32_t ticket = word_.fetch_or(1, Order) | 1U;
      if (flag_.load(kLoad) == 1) return;
      P::wait(word_, ticket);
    }
  }

 private:
  typename P::template Atomic<std::uint32_t> flag_{0};
  typename P::template Atomic<std::uint32_t> word_{0};
};

template <Platform P>
using AcqRelEventCountEvent = EventCountEvent<P, std::memory_order_acq_rel>;
template <Platform P>
using SeqCstEventCountEvent = EventCountEvent<P, std::memory_order_seq_cst>;

// A single-producer single-consumer ring whose producer publishes a slot with a relaxed store of
// the tail (it must be release): the consumer can see the new tail and still read the slot's old
// value. Publish = std::memory_order_release is the correct control.
template <Platform P, std::memory_order Publish = std::memory_order_relaxed>
class PublicationRing {
 public:
  static constexpr std::uint64_t kCapacity = 2;

  bool try_push(int value) {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_.load(std::memory_order_acquire) == kCapacity) return false;
    slots_[tail % kCapacity].store(value, std::memory_order_relaxed);
    tail_.store(tail + 1, Publish);
    return true;
  }
  bool try_pop(int& out) {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (tail_.load(std::memory_order_acquire) == head) return false;
    out = slots_[head % kCapacity].load(std::memory_order_relaxed);
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

 private:
  typename P::template Atomic<std::uint64_t> head_{0};
  typename P::template Atomic<std::uint64_t> tail_{0};
  typename P::template Atomic<int> slots_[kCapacity] = {-1, -1};
};

template <Platform P>
using RelaxedPublicationRing = PublicationRing<P, std::memory_order_relaxed>;
template <Platform P>
using ReleasePublicationRing = PublicationRing<P, std::memory_order_release>;

}  // namespace interleave::zoo
