// Deliberately broken queues: realistic mistakes the Queue properties must catch. Each has the
// interface the properties use (put / get -> std::optional / close / size), bounded, over a
// platform P, built the textbook way: a mutex, a ring, and futex "sequence" words to sleep on.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include "interleave/mutex.h"
#include "interleave/platform.h"

namespace interleave::zoo {

// The textbook bounded blocking queue, with switches for three classic mistakes.
enum class QueueBug {
  unlocked_tail,          // put advances the tail outside the lock
  notify_before_publish,  // put wakes getters before the item is in the ring
  close_without_wake,     // close sets the flag but wakes nobody
};

template <Platform P, QueueBug Bug>
class BrokenQueue {
 public:
  explicit BrokenQueue(int capacity)
      : capacity_(static_cast<std::uint32_t>(capacity)),
        slots_(std::make_unique<typename P::template Atomic<int>[]>(capacity_)) {}

  void put(int value) {
    lock_.lock();
    while (count_ == capacity_ && !closed_) {
      const std::uint32_t seen = not_full_.load();
      lock_.unlock();
      P::wait(not_full_, seen);
      lock_.lock();
    }
    if (closed_) {
      lock_.unlock();
      return;
    }
    if constexpr (Bug == QueueBug::notify_before_publish) {
      // Wake a getter, let it look (and go back to sleep) before the item exists.
      not_empty_.fetch_add(1);
      P::wake_one(not_empty_);
      lock_.unlock();
      lock_.lock();
      publish(value);
      ++count_;
      lock_.unlock();
      return;
    }
    if constexpr (Bug == QueueBug::unlocked_tail) {
      lock_.unlock();
      publish(value);  // two putters can read the same tail and fill the same slot
      lock_.lock();
    } else {
      publish(value);
    }
    ++count_;
    not_empty_.fetch_add(1);
    lock_.unlock();
    P::wake_one(not_empty_);
  }

  std::optional<int> get() {
    lock_.lock();
    while (count_ == 0) {
      if (closed_) {
        lock_.unlock();
        return std::nullopt;
      }
      const std::uint32_t seen = not_empty_.load();
      lock_.unlock();
      P::wait(not_empty_, seen);
      lock_.lock();
    }
    const int value = slots_[head_].load();
    head_ = (head_ + 1) % capacity_;
    --count_;
    not_full_.fetch_add(1);
    lock_.unlock();
    P::wake_one(not_full_);
    return value;
  }

  void close() {
    lock_.lock();
    closed_ = true;
    lock_.unlock();
    if constexpr (Bug != QueueBug::close_without_wake) {
      not_empty_.fetch_add(1);
      P::wake_all(not_empty_);
      not_full_.fetch_add(1);
      P::wake_all(not_full_);
    }
  }

  void publish(int value) {
    const std::uint32_t at = tail_.load();
    slots_[at].store(value);
    tail_.store((at + 1) % capacity_);
  }

  std::size_t size() {
    std::lock_guard g(lock_);
    return count_;
  }

 private:
  BasicMutex<P> lock_;
  // Atomic slots and tail: the mistakes below are in the protocol, not plain data races, so the
  // model can interleave at them and ThreadSanitizer builds see no race in the test itself.
  std::uint32_t capacity_;
  std::unique_ptr<typename P::template Atomic<int>[]> slots_;
  std::uint32_t head_ = 0;
  typename P::template Atomic<std::uint32_t> tail_{0};
  std::size_t count_ = 0;
  bool closed_ = false;
  typename P::template Atomic<std::uint32_t> not_empty_{0};
  typename P::template Atomic<std::uint32_t> not_full_{0};
};

template <Platform P>
using UnlockedTailQueue = BrokenQueue<P, QueueBug::unlocked_tail>;
template <Platform P>
using NotifyBeforePublishQueue = BrokenQueue<P, QueueBug::notify_before_publish>;
template <Platform P>
using CloseWithoutWakeQueue = BrokenQueue<P, QueueBug::close_without_wake>;

}  // namespace interleave::zoo
