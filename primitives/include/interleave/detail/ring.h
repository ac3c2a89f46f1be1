// detail::Ring<T, P>: a bounded multi-producer multi-consumer ring of sequence-numbered slots
// (D. Vyukov's bounded MPMC queue) that can be closed. It never blocks; QueueCore (queue.h) adds
// blocking, chaining of rings for unbounded queues, and the public contract.
//
// Positions  `enqueue_` and `dequeue_` count the items ever claimed by producers and consumers.
//            Position n lives in slot n % capacity. Each slot's `sequence` says whose turn it is:
//              sequence == 4n          free for the producer of position n
//              sequence == 4n + 1      holds the item of position n, for its consumer
//              sequence == 4n + 2      a tombstone: position n was claimed by a producer that died
//                                      before publishing; its consumer passes it by
//              sequence == 4(n + capacity)   freed by that consumer, for the next lap's producer
//            (Four states per lap keep them distinct even with a single slot.)
//            A producer claims position n by a CAS on enqueue_ (only when slot n is free), then
//            constructs the item and publishes it by storing 4n + 1; a consumer claims n by a CAS on
//            dequeue_ (only when the item is published), moves it out and frees the slot. After its
//            CAS an operation finishes without waiting for anybody.
// Closing    Bit 63 of enqueue_ marks the ring closed: a producer's CAS from an unmarked value then
//            fails, so no position is claimed after close(). A consumer that finds nothing at
//            position d with the ring closed and enqueue_ == d knows the ring is drained. (Claimed
//            positions below enqueue_ are always published eventually: their producer is past its
//            CAS, or it died and recover_dead_claims makes the position a tombstone.)
// Dead claimants (process-shared rings only). A process killed between its claiming CAS and the
//            end of its operation would leave its position claimed for good: consumers would
//            wait for an item that never comes, or producers of the next lap for a slot never
//            freed. With a Claimer (ClaimRegistry::Claim) an operation announces the position it
//            is about to claim, holding a robust record, and recover_dead_claims() finishes the
//            positions whose claimant is dead: an unpublished one becomes a tombstone (its item,
//            never committed, is the only thing lost), an unfreed one is freed (the consumer's
//            item, taken but never returned, is the only thing lost). Threads never need it: the
//            default NoClaimer compiles to nothing.
// Ordering   The slot's sequence store (release) and load (acquire) carry the item (a P::Cell, so
//            the model's race detector checks this) from producer to consumer and the freed slot
//            back to the next lap's producer. The sequence stores/loads and the close are seq_cst so that a thread that
//            registers as a waiter and then re-checks the ring, and a thread that changes the ring
//            and then looks for waiters, cannot both miss each other (see BasicCondition). With a
//            Claimer the claiming CASes are seq_cst too, so a recoverer that sees a position
//            claimed also sees its announcement.
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "interleave/detail/robust.h"
#include "interleave/platform.h"

namespace interleave::detail {

// Room for one item, constructed and destroyed in place by the ring. Its constructor leaves the
// bytes alone (a value-initialized cell does not zero them).
template <class T>
struct ItemStorage {
  ItemStorage() noexcept {}  // NOLINT(modernize-use-equals-default): `= default` would zero the bytes
  alignas(T) unsigned char bytes[sizeof(T)];

  T* item() noexcept { return std::launder(reinterpret_cast<T*>(bytes)); }
};

// The item's bytes are a platform cell: the slot's sequence hands them from producer to consumer
// and back, and under the model the race detector checks that it does.
template <class T, Platform P>
struct RingSlot {
  typename P::template Atomic<std::uint64_t> sequence{0};
  typename P::template Cell<ItemStorage<T>> storage;
};

enum class RingStatus : std::uint8_t {
  ok,
  full,    // try_push: no free slot (the item of the previous lap is still there or being taken)
  empty,   // try_pop: nothing published at the front (a producer may be about to publish)
  closed,  // try_push: the ring is closed; try_pop: closed and drained
};

// The Claimer of rings shared only between threads: announces nothing, costs nothing.
struct NoClaimer {
  static constexpr std::memory_order claim_order = std::memory_order_relaxed;
  void announce(ClaimRegistry::Operation, std::uint64_t) noexcept {}
};

// A ClaimRegistry::Claim, for rings shared between processes.
struct RegistryClaimer {
  static constexpr std::memory_order claim_order = std::memory_order_seq_cst;
  explicit RegistryClaimer(ClaimRegistry& registry) noexcept : claim(registry) {}
  ClaimRegistry::Claim claim;
  void announce(ClaimRegistry::Operation operation, std::uint64_t position) noexcept {
    claim.announce(operation, position);
  }
};

template <class T, Platform P>
class Ring {
 public:
  using Slot = RingSlot<T, P>;

  // Uses `capacity` (>= 1) slots at `slots`, which must outlive the ring; frees them with
  // delete[] if `owns_slots`.
  Ring(Slot* slots, std::uint64_t capacity, bool owns_slots) noexcept
      : slots_(slots), capacity_(capacity), owns_slots_(owns_slots) {
    for (std::uint64_t i = 0; i < capacity; ++i) slots_[i].sequence.store(4 * i, std::memory_order_relaxed);
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  // Requires: no operation in progress. Destroys the items still held.
  ~Ring() {
    const std::uint64_t end = enqueue_.load(std::memory_order_relaxed) & ~kClosedBit;
    for (std::uint64_t d = dequeue_.load(std::memory_order_relaxed); d < end; ++d) {
      Slot& slot = slots_[d % capacity_];
      if (slot.sequence.load(std::memory_order_relaxed) == 4 * d + 1) {
        slot.storage.with_mut([](ItemStorage<T>& s) { std::destroy_at(s.item()); });
      }
    }
    if (owns_slots_) delete[] slots_;
  }

  // Moves `value` into the ring (ok), or leaves it untouched (full, closed).
  template <class Claimer = NoClaimer>
  RingStatus try_push(T& value, Claimer&& claimer = {}) {
    constexpr std::memory_order claim_order = std::remove_reference_t<Claimer>::claim_order;
    // seq_cst, not claim_order: a put that registered as a waiter re-checks the ring here, and
    // must see a close() that looked for waiters before the registration (BasicCondition); a
    // relaxed load may read the enqueue word from before the close, and the put sleeps forever
    // (MemoryModelFindings.QueuePutRacingCloseNeverSleepsForever).
    std::uint64_t e = enqueue_.load(std::memory_order_seq_cst);
    for (;;) {
      if ((e & kClosedBit) != 0) return RingStatus::closed;
      Slot& slot = slots_[e % capacity_];
      const std::uint64_t seq = slot.sequence.load(std::memory_order_seq_cst);
      if (seq == 4 * e) {
        claimer.announce(ClaimRegistry::Operation::push, e);
        if (enqueue_.compare_exchange_weak(e, e + 1, claim_order, claim_order)) {
          // Position e is ours. If T's move constructor throws here, the position is lost and
          // consumers wait for it forever: T's move constructor must not throw (checked by the
          // queue).
          slot.storage.with_mut(
              [&value](ItemStorage<T>& s) { ::new (static_cast<void*>(s.bytes)) T(std::move(value)); });
          slot.sequence.store(4 * e + 1, std::memory_order_seq_cst);
          return RingStatus::ok;
        }
        // e now holds the current value; try again.
      } else if (seq < 4 * e) {
        return RingStatus::full;
      } else {
        e = enqueue_.load(claim_order);  // another producer took e
      }
    }
  }

  // Moves the front item into `out` (ok), or reports empty / closed (closed and drained).
  template <class Claimer = NoClaimer>
  RingStatus try_pop(std::optional<T>& out, Claimer&& claimer = {}) {
    constexpr std::memory_order claim_order = std::remove_reference_t<Claimer>::claim_order;
    std::uint64_t d = dequeue_.load(claim_order);
    for (;;) {
      Slot& slot = slots_[d % capacity_];
      const std::uint64_t seq = slot.sequence.load(std::memory_order_seq_cst);
      if (seq == 4 * d + 1) {
        claimer.announce(ClaimRegistry::Operation::pop, d);
        if (dequeue_.compare_exchange_weak(d, d + 1, claim_order, claim_order)) {
          slot.storage.with_mut([&out](ItemStorage<T>& s) {
            T* item = s.item();
            out.emplace(std::move(*item));
            std::destroy_at(item);
          });
          slot.sequence.store(4 * (d + capacity_), std::memory_order_seq_cst);
          return RingStatus::ok;
        }
      } else if (seq < 4 * d + 1) {
        // Nothing published at d. Drained for good if closed with nothing claimed at or past d.
        const std::uint64_t e = enqueue_.load(std::memory_order_seq_cst);
        return (e & kClosedBit) != 0 && (e & ~kClosedBit) <= d ? RingStatus::closed : RingStatus::empty;
      } else if (seq == 4 * d + 2) {
        // A tombstone (its producer died): pass it by, freeing the slot for the next lap.
        claimer.announce(ClaimRegistry::Operation::pop, d);
        if (dequeue_.compare_exchange_weak(d, d + 1, claim_order, claim_order)) {
          slot.sequence.store(4 * (d + capacity_), std::memory_order_seq_cst);
          ++d;
        }
      } else {
        d = dequeue_.load(claim_order);  // another consumer took d
      }
    }
  }

  // Finishes the positions whose claimant died (see Dead claimants above): the front position if
  // a producer claimed it and will never publish it, and the position a producer of the current
  // lap waits on if a consumer claimed it and will never free it. `live_claim(operation,
  // position)` says whether a live thread still works on that claim. Returns true when it changed
  // a slot (waiters should then look again).
  template <class LiveClaim>
  bool recover_dead_claims(LiveClaim&& live_claim) {
    bool changed = false;
    const std::uint64_t d = dequeue_.load(std::memory_order_seq_cst);
    const std::uint64_t e = enqueue_.load(std::memory_order_seq_cst) & ~kClosedBit;
    if (e > d) {
      Slot& slot = slots_[d % capacity_];
      std::uint64_t seq = slot.sequence.load(std::memory_order_seq_cst);
      if (seq == 4 * d && !live_claim(ClaimRegistry::Operation::push, d)) {
        changed |= slot.sequence.compare_exchange_strong(seq, 4 * d + 2, std::memory_order_seq_cst);
      }
    }
    if (e >= capacity_ && d > e - capacity_) {
      const std::uint64_t p = e - capacity_;  // consumed-claimed: its slot is the one position e needs
      Slot& slot = slots_[p % capacity_];
      std::uint64_t seq = slot.sequence.load(std::memory_order_seq_cst);
      if ((seq == 4 * p + 1 || seq == 4 * p + 2) && !live_claim(ClaimRegistry::Operation::pop, p)) {
        changed |= slot.sequence.compare_exchange_strong(seq, 4 * (p + capacity_), std::memory_order_seq_cst);
      }
    }
    return changed;
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
  // Positions stay below 2^61, so 4 * position fits in a sequence.
  static constexpr std::uint64_t kClosedBit = std::uint64_t{1} << 63;

  // Producers and consumers each on their own cache line.
  alignas(64) typename P::template Atomic<std::uint64_t> enqueue_{0};
  alignas(64) typename P::template Atomic<std::uint64_t> dequeue_{0};
  alignas(64) Slot* const slots_;
  const std::uint64_t capacity_;
  const bool owns_slots_;
};

}  // namespace interleave::detail
