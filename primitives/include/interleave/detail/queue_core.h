// detail::QueueCore: the one lock-free queue algorithm behind Queue and SharedQueue
// (interleave/queue.h, whose comment states the contract). Not a stable interface.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "interleave/detail/condition.h"
#include "interleave/detail/ring.h"
#include "interleave/queue_status.h"

namespace interleave::detail {

// The one queue algorithm, over a platform P: a chain of detail::Ring (detail/ring.h).
//
// Bounded    One ring of `capacity` slots. Producers wait on `not_full_`, consumers on
//            `not_empty_` (detail::BasicCondition used as an event count).
// Unbounded  Rings of doubling size chained through Ring::next. A producer that finds the tail
//            ring full closes it, installs a ring twice as large after it (one CAS on `next`
//            decides who installs) and moves `tail_` on; consumers drain a ring before moving
//            `head_` to the next one, so each producer's items stay in order. Rings are kept
//            until the queue is destroyed, so a thread holding a stale ring pointer never reads
//            freed memory; after growth stops, the largest ring is reused round and round, and
//            the retired ones total less than it.
// Closing    close() marks `closed_`, then closes the tail ring and seals it by CAS-ing its `next`
//            from 0 to Ring::kTerminal; if a growing producer installed a ring there first, it
//            closes that one too, and so on. A consumer that finds a ring closed and drained
//            with a terminal `next` reports the queue closed and drained.
// Waiting    A thread that cannot proceed spins P::spin_limit attempts, then registers on the
//            condition, re-tries once, and sleeps. Successful pushes notify `not_empty_`, pops
//            of a bounded queue notify `not_full_`, close notifies both; each notify is one
//            seq_cst load when nobody sleeps.
// Dead peers With a ClaimRegistry (SharedQueue: processes, one ring) every claim is announced
//            (detail/ring.h, Dead claimants) and a thread that cannot proceed runs
//            Ring::recover_dead_claims before it sleeps, sleeps at most 32 ms (1 ms at first,
//            doubling) so it looks again even though a dead claimant will never notify,
//            and on a try_* that found nothing. Only the process-shared path: for threads the
//            registry is absent and the checks compile away.
template <class T, Platform P>
class QueueCore {
 public:
  using TimePoint = typename P::TimePoint;
  using RingType = Ring<T, P>;
  using Slot = typename RingType::Slot;

  enum class Mode { try_once, until_deadline, forever };

  // A bounded queue over `ring` (not owned: it and its slots outlive the core), or, with
  // ring == nullptr, a queue owning heap rings: bounded with `capacity` slots, or unbounded
  // when capacity == 0. A `registry` (only with a process-shared P and a given ring) makes the
  // queue survive processes that die inside an operation (Dead peers above).
  QueueCore(std::uint64_t capacity, RingType* ring, ClaimRegistry* registry = nullptr)
      : capacity_(capacity), owns_first_(ring == nullptr), registry_(registry) {
    first_ = ring != nullptr ? ring : make_ring(capacity != 0 ? capacity : kFirstUnboundedRing);
    head_.store(first_, std::memory_order_relaxed);
    tail_.store(first_, std::memory_order_relaxed);
  }
  QueueCore(const QueueCore&) = delete;
  QueueCore& operator=(const QueueCore&) = delete;
  // Requires: no operation in progress. Destroys the items still queued.
  ~QueueCore() {
    RingType* ring = first_;
    while (ring != nullptr) {
      const std::uintptr_t next = ring->next.load(std::memory_order_relaxed);
      if (ring != first_ || owns_first_) {
        delete ring;
      } else {
        std::destroy_at(ring);
      }
      ring = next > RingType::kTerminal ? reinterpret_cast<RingType*>(next) : nullptr;
    }
  }

  // Puts `value`, moving from it only when the result is ok.
  QueueStatus put(T& value, Mode mode, TimePoint deadline) {
    bool expired = false;
    bool spun = false;
    RingStatus status = push_once(value);
    int naps = 0;
    while (status == RingStatus::full) {
      if (mode == Mode::try_once || expired) {
        if (recover_dead_claims()) {
          status = push_once(value);
          continue;
        }
        return mode == Mode::try_once ? QueueStatus::full : QueueStatus::timed_out;
      }
      if (!spun) {
        spun = true;
        for (int i = 0; i < P::spin_limit && status == RingStatus::full; ++i) {
          P::relax();
          status = push_once(value);
        }
        continue;
      }
      const auto ticket = not_full_.prepare_wait();
      status = push_once(value);
      if (status != RingStatus::full || recover_dead_claims()) {
        not_full_.cancel_wait();
        if (status == RingStatus::full) status = push_once(value);
        continue;
      }
      expired = !sleep(not_full_, ticket, mode, deadline, naps);  // then one more try: room at the deadline counts
      status = push_once(value);
    }
    if (status == RingStatus::closed) return QueueStatus::closed;
    not_empty_.notify_one();
    return QueueStatus::ok;
  }

  // Takes the front item into `out` (ok), or reports empty / timed_out / closed.
  QueueStatus get(std::optional<T>& out, Mode mode, TimePoint deadline) {
    bool expired = false;
    bool spun = false;
    RingStatus status = pop_once(out);
    int naps = 0;
    while (status == RingStatus::empty) {
      if (mode == Mode::try_once || expired) {
        if (recover_dead_claims()) {
          status = pop_once(out);
          continue;
        }
        return mode == Mode::try_once ? QueueStatus::empty : QueueStatus::timed_out;
      }
      if (!spun) {
        spun = true;
        for (int i = 0; i < P::spin_limit && status == RingStatus::empty; ++i) {
          P::relax();
          status = pop_once(out);
        }
        continue;
      }
      const auto ticket = not_empty_.prepare_wait();
      status = pop_once(out);
      if (status != RingStatus::empty || recover_dead_claims()) {
        not_empty_.cancel_wait();
        if (status == RingStatus::empty) status = pop_once(out);
        continue;
      }
      expired = !sleep(not_empty_, ticket, mode, deadline, naps);
      status = pop_once(out);
    }
    if (status == RingStatus::closed) return QueueStatus::closed;
    if (capacity_ != 0) not_full_.notify_one();
    return QueueStatus::ok;
  }

  void close(const char* operation) {
    if (closed_.exchange(1, std::memory_order_seq_cst) != 0) {
      throw std::logic_error(std::string(operation) + ": already closed");
    }
    RingType* ring = tail_.load(std::memory_order_seq_cst);
    for (;;) {
      ring->close();
      std::uintptr_t next = 0;
      if (ring->next.compare_exchange_strong(next, RingType::kTerminal, std::memory_order_seq_cst)) break;
      ring = reinterpret_cast<RingType*>(next);  // a growing producer installed one: close it too
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  [[nodiscard]] bool is_closed() const noexcept { return closed_.load(std::memory_order_seq_cst) != 0; }

  [[nodiscard]] std::size_t size() const noexcept {
    std::uint64_t total = 0;
    for (const RingType* ring = head_.load(std::memory_order_seq_cst); ring != nullptr;) {
      total += ring->size();
      const std::uintptr_t next = ring->next.load(std::memory_order_seq_cst);
      ring = next > RingType::kTerminal ? reinterpret_cast<const RingType*>(next) : nullptr;
    }
    if (capacity_ != 0 && total > capacity_) total = capacity_;
    return static_cast<std::size_t>(total);
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(capacity_); }

 private:
  static constexpr std::uint64_t kFirstUnboundedRing = 32;
  // A waiter of a process-shared queue looks for dead claimants after 1, 2, 4, 8 and 16 ms, then
  // every 32 ms.
  static constexpr int kRecheckDoublings = 5;

  static RingType* make_ring(std::uint64_t slots) {
    auto storage = std::make_unique<Slot[]>(static_cast<std::size_t>(slots));
    auto* ring = new RingType(storage.get(), slots, true);
    storage.release();
    return ring;
  }

  // With a registry the thread's claims are announced (Dead peers above); without, nothing extra.
  RingStatus ring_push(RingType* ring, T& value) {
    if constexpr (P::process_shared) {
      if (registry_ != nullptr) return ring->try_push(value, RegistryClaimer(*registry_));
    }
    return ring->try_push(value);
  }
  RingStatus ring_pop(RingType* ring, std::optional<T>& out) {
    if constexpr (P::process_shared) {
      if (registry_ != nullptr) return ring->try_pop(out, RegistryClaimer(*registry_));
    }
    return ring->try_pop(out);
  }

  // Finishes the positions whose claimant died; true when it changed one (every waiter is then
  // woken to look again). Always false without a registry.
  bool recover_dead_claims() {
    if constexpr (P::process_shared) {
      if (registry_ == nullptr) return false;
      const bool changed =
          first_->recover_dead_claims([this](ClaimRegistry::Operation operation, std::uint64_t position) {
            return registry_->live_claim(operation, position);
          });
      if (changed) {
        not_empty_.notify_all();
        not_full_.notify_all();
      }
      return changed;
    } else {
      return false;
    }
  }

  // Sleeps on `condition` (registered with `ticket`) until notified, spuriously, or the deadline
  // (then false). With a registry it also wakes after a recheck interval (doubling from 1 ms to
  // 32 ms) so that a claimant's death, which notifies nobody, is noticed.
  bool sleep(BasicCondition<P>& condition, typename BasicCondition<P>::Ticket ticket, Mode mode, TimePoint deadline,
             int& naps) {
    if constexpr (P::process_shared) {
      if (registry_ != nullptr) {
        const auto recheck = P::now() + std::chrono::microseconds(1000 << std::min(naps++, kRecheckDoublings));
        if (mode == Mode::forever || recheck < deadline) {
          condition.wait_until(ticket, recheck);
          return true;
        }
      }
    }
    if (mode == Mode::forever) {
      condition.wait(ticket);
      return true;
    }
    return condition.wait_until(ticket, deadline);
  }

  RingStatus push_once(T& value) {
    for (;;) {
      RingType* ring = tail_.load(std::memory_order_seq_cst);
      const RingStatus status = ring_push(ring, value);
      if (status == RingStatus::ok || capacity_ != 0) return status;
      // Unbounded: a full ring is closed and replaced by a larger one; a closed one is passed.
      if (status == RingStatus::full) ring->close();
      std::uintptr_t next = ring->next.load(std::memory_order_seq_cst);
      if (next == RingType::kTerminal) return RingStatus::closed;
      if (next == 0) {
        if (closed_.load(std::memory_order_seq_cst) != 0) return RingStatus::closed;
        if (ring->capacity() > std::numeric_limits<std::uint64_t>::max() / 4 / sizeof(Slot)) throw std::bad_alloc();
        RingType* fresh = make_ring(ring->capacity() * 2);
        if (ring->next.compare_exchange_strong(next, reinterpret_cast<std::uintptr_t>(fresh),
                                               std::memory_order_seq_cst)) {
          next = reinterpret_cast<std::uintptr_t>(fresh);
        } else {
          delete fresh;  // another producer installed one (or close sealed the ring)
          if (next == RingType::kTerminal) return RingStatus::closed;
        }
      }
      tail_.compare_exchange_strong(ring, reinterpret_cast<RingType*>(next), std::memory_order_seq_cst);
    }
  }

  RingStatus pop_once(std::optional<T>& out) {
    for (;;) {
      RingType* ring = head_.load(std::memory_order_seq_cst);
      const RingStatus status = ring_pop(ring, out);
      if (status != RingStatus::closed) return status;
      // This ring is closed and drained: the queue is too if it was sealed, else move on.
      const std::uintptr_t next = ring->next.load(std::memory_order_seq_cst);
      if (next == RingType::kTerminal) return RingStatus::closed;
      if (next == 0) return RingStatus::empty;  // a producer is installing the next ring
      head_.compare_exchange_strong(ring, reinterpret_cast<RingType*>(next), std::memory_order_seq_cst);
    }
  }

  // Consumers' and producers' hot words on separate cache lines.
  alignas(64) typename P::template Atomic<RingType*> head_{nullptr};
  BasicCondition<P> not_full_;
  alignas(64) typename P::template Atomic<RingType*> tail_{nullptr};
  BasicCondition<P> not_empty_;
  alignas(64) typename P::template Atomic<std::uint32_t> closed_{0};
  const std::uint64_t capacity_;
  RingType* first_ = nullptr;
  const bool owns_first_;
  ClaimRegistry* const registry_;
};

// Validates a capacity given to a constructor; returns it as a size.
inline std::uint64_t checked_capacity(std::ptrdiff_t capacity, const char* type) {
  if (capacity <= 0) {
    throw std::invalid_argument(std::string(type) + ": capacity must be >= 1, got " + std::to_string(capacity));
  }
  return static_cast<std::uint64_t>(capacity);
}

}  // namespace interleave::detail
