// detail::Ring<T, P>: a bounded multi-producer multi-consumer ring of sequence-numbered slots
// (D. Vyukov's bounded MPMC queue) that can be closed. It never blocks; QueueCore (queue.h) adds
// blocking, chaining of rings for unbounded queues, and the public contract.
//
// Positions  `enqueue_` and `dequeue_` count the items ever claimed by producers and consumers.
//            Position n lives in slot n % capacity. Each slot's `sequence` says whose turn it is:
//              sequence == 2n          free for the producer of position n
//              sequence == 2n + 1      holds the item of position n, for its consumer
//              sequence == 2(n + capacity)   freed by that consumer, for the next lap's producer
//            (Doubling keeps the states distinct even with a single slot.)
//            A producer claims position n by a CAS on enqueue_ (only when slot n is free), then
//            constructs the item and publishes it by storing n + 1; a consumer claims n by a CAS on
//            dequeue_ (only when the item is published), moves it out and frees the slot. After its
//            CAS an operation finishes without waiting for anybody.
// Closing    Bit 63 of enqueue_ marks the ring closed: a producer's CAS from an unmarked value then
//            fails, so no position is claimed after close(). A consumer that finds nothing at
//            position d with the ring closed and enqueue_ == d knows the ring is drained. (Claimed
//            positions below enqueue_ are always published eventually: their producer is past its
//            CAS.)
// Ordering   The slot's sequence store (release) and load (acquire) carry the item from producer to
//            consumer. The sequence stores/loads and the close are seq_cst so that a thread that
//            registers as a waiter and then re-checks the ring, and a thread that changes the ring
//            and then looks for waiters, cannot both miss each other (see BasicCondition).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <utility>

#include "interleave/platform.h"

namespace interleave::detail {

template <class T, Platform P>
struct RingSlot {
  typename P::template Atomic<std::uint64_t> sequence{0};
  alignas(T) unsigned char storage[sizeof(T)];

  T* item() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
};

enum class RingStatus : std::uint8_t {
  ok,
  full,    // try_push: no free slot (the item of the previous lap is still there or being taken)
  empty,   // try_pop: nothing published at the front (a producer may be about to publish)
  closed,  // try_push: the ring is closed; try_pop: closed and drained
};

template <class T, Platform P>
class Ring {
 public:
  using Slot = RingSlot<T, P>;

  // Uses `capacity` (>= 1) slots at `slots`, which must outlive the ring; frees them with
  // delete[] if `owns_slots`.
  Ring(Slot* slots, std::uint64_t capacity, bool owns_slots) noexcept
      : slots_(slots), capacity_(capacity), owns_slots_(owns_slots) {
    for (std::uint64_t i = 0; i < capacity; ++i) slots_[i].sequence.store(2 * i, std::memory_order_relaxed);
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  // Requires: no operation in progress. Destroys the items still held.
  ~Ring() {
    const std::uint64_t end = enqueue_.load(std::memory_order_relaxed) & ~kClosedBit;
    for (std::uint64_t d = dequeue_.load(std::memory_order_relaxed); d < end; ++d) {
      std::destroy_at(slots_[d % capacity_].item());
    }
    if (owns_slots_) delete[] slots_;
  }

  // Moves `value` into the ring (ok), or leaves it untouched (full, closed).
  RingStatus try_push(T& value) {
    std::uint64_t e = enqueue_.load(std::memory_order_relaxed);
    for (;;) {
      if ((e & kClosedBit) != 0) return RingStatus::closed;
      Slot& slot = slots_[e % capacity_];
      const std::uint64_t seq = slot.sequence.load(std::memory_order_seq_cst);
      if (seq == 2 * e) {
        if (enqueue_.compare_exchange_weak(e, e + 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
          // Position e is ours. If T's move constructor throws here, the position is lost and
          // consumers wait for it forever: T's move constructor must not throw (checked by the
          // queue).
          ::new (static_cast<void*>(slot.storage)) T(std::move(value));
          slot.sequence.store(2 * e + 1, std::memory_order_seq_cst);
          return RingStatus::ok;
        }
        // e now holds the current value; try again.
      } else if (seq < 2 * e) {
        return RingStatus::full;
      } else {
        e = enqueue_.load(std::memory_order_relaxed);  // another producer took e
      }
    }
  }

  // Moves the front item into `out` (ok), or reports empty / closed (closed and drained).
  RingStatus try_pop(std::optional<T>& out) {
    std::uint64_t d = dequeue_.load(std::memory_order_relaxed);
    for (;;) {
      Slot& slot = slots_[d % capacity_];
      const std::uint64_t seq = slot.sequence.load(std::memory_order_seq_cst);
      if (seq == 2 * d + 1) {
        if (dequeue_.compare_exchange_weak(d, d + 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
          T* item = slot.item();
          out.emplace(std::move(*item));
          std::destroy_at(item);
          slot.sequence.store(2 * (d + capacity_), std::memory_order_seq_cst);
          return RingStatus::ok;
        }
      } else if (seq < 2 * d + 1) {
        // Nothing published at d. Drained for good if closed with nothing claimed at or past d.
        const std::uint64_t e = enqueue_.load(std::memory_order_seq_cst);
        return (e & kClosedBit) != 0 && (e & ~kClosedBit) <= d ? RingStatus::closed : RingStatus::empty;
      } else {
        d = dequeue_.load(std::memory_order_relaxed);  // another consumer took d
      }
    }
  }

  // Stops further pushes. Returns false if the ring was already closed.
  bool close() noexcept { return (enqueue_.fetch_or(kClosedBit, std::memory_order_seq_cst) & kClosedBit) == 0; }

  // A snapshot of the number of items held (claimed by a producer, not yet by a consumer).
  [[nodiscard]] std::uint64_t size() const noexcept {
    // enqueue_ first: a later dequeue_ is then never behind it by more than the capacity.
    const std::uint64_t e = enqueue_.load(std::memory_order_seq_cst) & ~kClosedBit;
    const std::uint64_t d = dequeue_.load(std::memory_order_seq_cst);
    if (d >= e) return 0;
    return e - d < capacity_ ? e - d : capacity_;
  }

  [[nodiscard]] std::uint64_t capacity() const noexcept { return capacity_; }

  // The ring that follows this one in an unbounded queue: 0 (none yet), kTerminal (the queue is
  // closed: none ever will) or a Ring*. Managed by QueueCore.
  static constexpr std::uintptr_t kTerminal = 1;
  typename P::template Atomic<std::uintptr_t> next{0};

 private:
  // Positions stay below 2^62, so 2 * position fits in a sequence.
  static constexpr std::uint64_t kClosedBit = std::uint64_t{1} << 63;

  // Producers and consumers each on their own cache line.
  alignas(64) typename P::template Atomic<std::uint64_t> enqueue_{0};
  alignas(64) typename P::template Atomic<std::uint64_t> dequeue_{0};
  alignas(64) Slot* const slots_;
  const std::uint64_t capacity_;
  const bool owns_slots_;
};

}  // namespace interleave::detail
