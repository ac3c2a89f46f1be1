// Queue: a multi-producer multi-consumer FIFO queue (Python's queue.Queue with close(), and
// multiprocessing.Queue as SharedQueue).
//
// Purpose   Hand items from producer threads to consumer threads: put() at the back, get() from
//           the front. Unbounded (Queue<T>()) or bounded (Queue<T>(capacity)); a bounded queue
//           blocks producers while it is full. close() ends the stream: consumers drain what is
//           left, then learn that nothing more will come.
//           SharedQueue<T> is the same queue for trivially copyable T placed in shared memory,
//           so it works between a process and the children it fork()s (see below).
// Requires  T is an object type whose move constructor and destructor do not throw (move-only
//           types such as std::unique_ptr work; checked at compile time).
//           The queue is destroyed only when no thread is inside one of its operations.
//           A capacity is >= 1 (std::invalid_argument otherwise).
// Guarantees
//   - FIFO: items put by one thread are got in the order it put them (for any set of consumers);
//     with a single producer, that is the order of the whole queue. Items from different
//     producers are ordered by when their put() took effect.
//   - Nothing is lost or duplicated: every item whose put succeeded is returned by exactly one
//     get, unless the queue is destroyed still holding it (then it is destroyed with the queue).
//   - A bounded queue never holds more than capacity() items.
//   - try_put / try_put_for move from their argument ONLY when they return QueueStatus::ok: a
//     refused move-only item is still the caller's.
//   - size() and empty() are snapshots: another thread may change the queue as soon as they
//     return. A consumer loop such as `while (!q.empty()) use(q.get());` (the Python tutorial's
//     `while not q.empty(): q.get()`) is therefore racy: with two consumers, both may see one
//     item, and one of them then blocks in get() forever (or, with a concurrent producer, the loop
//     stops early). Loop on get() until it returns std::nullopt after close() instead.
//   - capacity() is fixed at construction; 0 (Queue::unbounded) means unbounded.
//   - put(), get() and close() are linearizable. An `empty` from try_get() (or `timed_out` from
//     get_for()) is not: while one put is still filling the front slot, try_get() reports empty
//     even if a later put has already returned its item into the next slot. Items are never lost
//     or reordered per producer; only that answer may be stale
//     (LinearizabilityFindings.QueueTryGetCanReportEmptyBesideACompletedPut pins it).
// Memory ordering
//   Everything a producer did before put()/try_put()/try_put_for() of an item happens-before the
//   get()/try_get()/get_for() that returns that item returns. Everything done before close()
//   happens-before any operation that reports the queue closed.
// Blocking  get() blocks while the queue is empty and open; put() blocks while the queue is full
//           and open. Neither makes a system call when it need not wait and no other thread is
//           sleeping on the queue. No locks: a thread preempted inside put (or get) holds up
//           only the threads that reach its one slot (consumers of that item, or producers of
//           the slot's next lap).
// Timeouts  try_put_for(v, d) / get_for(d): d < 0 throws std::invalid_argument; d == 0 makes one
//           attempt without blocking (as try_put / try_get); otherwise they wait at most about d
//           and report QueueStatus::timed_out. An item that arrives (or room that frees up) at the
//           deadline is still taken.
// Closing   close() marks the queue closed and wakes every blocked thread. From then on:
//             put() throws QueueClosed; try_put/try_put_for return QueueStatus::closed without
//             touching the value; blocked putters are woken and refused the same way;
//             get()/try_get()/get_for() keep returning the items still queued, then report
//             closed (std::nullopt from get(), QueueStatus::closed from the others).
//           Closing a closed queue is a bug (like joining a thread twice): it throws
//           std::logic_error("Queue::close: already closed").
//
// Algorithm Lock-free rings of sequence-numbered slots (detail/ring.h: Vyukov's bounded MPMC
//           queue plus a close bit), chained and doubled for an unbounded queue, with
//           detail::BasicCondition<P> (detail/condition.h) as event counts for "not empty" and
//           "not full" (detail::QueueCore below). A put or get that need not wait costs a few
//           atomic operations and no system call; one that must wait spins P::spin_limit tries,
//           then registers on the condition, re-tries once, and sleeps. One algorithm serves
//           both forms; only where the slots live differs (heap for Queue, one SharedRegion for
//           SharedQueue). Measured on 2 cores (bench/queue_benchmark.cpp) it moves items
//           1.6-1.8x faster than a std::mutex + std::condition_variable + std::deque queue.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "interleave/detail/condition.h"
#include "interleave/detail/ring.h"
#include "interleave/native_platform.h"
#include "interleave/shared_memory.h"
#include "interleave/source_location.h"
#include "interleave/timeout.h"

namespace interleave {

// Thrown by put() on a closed queue (including a put that was blocked when close() came).
class QueueClosed : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// The outcome of an operation that may decline instead of blocking or throwing.
enum class QueueStatus : std::uint8_t {
  ok,         // the item was put (and moved from) / got
  full,       // try_put: the bounded queue is at capacity; the value was not moved from
  empty,      // try_get: nothing is queued right now (the queue is open; more may come)
  timed_out,  // try_put_for / get_for: the deadline passed first; a put's value was not moved from
  closed,     // putting: the queue is closed (value not moved from); getting: closed and drained
};

[[nodiscard]] constexpr const char* to_string(QueueStatus status) noexcept {
  switch (status) {
    case QueueStatus::ok:
      return "ok";
    case QueueStatus::full:
      return "full";
    case QueueStatus::empty:
      return "empty";
    case QueueStatus::timed_out:
      return "timed_out";
    case QueueStatus::closed:
      return "closed";
  }
  return "unknown";
}

inline std::ostream& operator<<(std::ostream& out, QueueStatus status) { return out << to_string(status); }

// What try_get() / get_for() return: a status and, when it is ok, the item.
//
//   if (auto r = q.try_get()) use(*r);            // got one
//   else if (r.closed()) return;                  // closed and drained: nothing will ever come
//   else ...                                      // empty / timed_out: nothing yet, try later
template <class T>
class [[nodiscard]] QueueResult {
 public:
  // A result without an item; `status` is not ok.
  explicit QueueResult(QueueStatus status) noexcept : status_(status) {}
  // A result carrying an item (status ok).
  explicit QueueResult(std::optional<T>&& value) noexcept(std::is_nothrow_move_constructible_v<T>)
      : status_(value ? QueueStatus::ok : QueueStatus::empty), value_(std::move(value)) {}

  [[nodiscard]] QueueStatus status() const noexcept { return status_; }
  [[nodiscard]] bool ok() const noexcept { return status_ == QueueStatus::ok; }
  explicit operator bool() const noexcept { return ok(); }
  // True only when the queue is closed AND drained: no item will ever come again.
  [[nodiscard]] bool closed() const noexcept { return status_ == QueueStatus::closed; }

  // The item; throws std::logic_error naming the status when there is none.
  [[nodiscard]] T& value() & { return checked(); }
  [[nodiscard]] const T& value() const& { return checked(); }
  [[nodiscard]] T&& value() && { return std::move(checked()); }
  // Unchecked access: requires ok().
  [[nodiscard]] T& operator*() & noexcept { return *value_; }
  [[nodiscard]] const T& operator*() const& noexcept { return *value_; }
  [[nodiscard]] T&& operator*() && noexcept { return std::move(*value_); }
  [[nodiscard]] T* operator->() noexcept { return &*value_; }
  [[nodiscard]] const T* operator->() const noexcept { return &*value_; }
  // The item as an optional (empty unless ok()), e.g. to hand on as get() would return it.
  [[nodiscard]] std::optional<T>&& optional() && noexcept { return std::move(value_); }

 private:
  T& checked() {
    require_value();
    return *value_;
  }
  const T& checked() const {
    require_value();
    return *value_;
  }
  void require_value() const {
    if (!value_) {
      throw std::logic_error(std::string("QueueResult::value: no item (status ") + to_string(status_) + ")");
    }
  }

  QueueStatus status_;
  std::optional<T> value_;
};

namespace detail {

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

}  // namespace detail

template <class T, Platform P = NativePlatform>
class BasicQueue {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T> && !std::is_array_v<T>,
                "Queue<T>: T must be a non-const, non-volatile, non-array object type");
  static_assert(std::is_nothrow_move_constructible_v<T> && std::is_nothrow_destructible_v<T>,
                "Queue<T>: T must be nothrow move-constructible and nothrow destructible (an item is moved "
                "into and out of its slot after the slot is claimed, when the operation can no longer back out)");
  using Core = detail::QueueCore<T, P>;
  using Mode = typename Core::Mode;

 public:
  // capacity() of an unbounded queue.
  static constexpr std::size_t unbounded = 0;

  // An unbounded queue.
  BasicQueue() : core_(unbounded, nullptr) {}
  // A queue holding at most `capacity` items; capacity <= 0 throws std::invalid_argument.
  explicit BasicQueue(std::ptrdiff_t capacity) : core_(detail::checked_capacity(capacity, "Queue"), nullptr) {}
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  // Puts `value` at the back, blocking while the queue is full. Throws QueueClosed if the queue
  // is closed (before or while blocked).
  void put(T value, interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Queue::put", this, where);
    if (core_.put(value, Mode::forever, {}) == QueueStatus::closed) {
      throw QueueClosed("Queue::put: the queue was closed");
    }
  }

  // Puts `value` if there is room now: ok (moved from), full or closed (not moved from).
  [[nodiscard]] QueueStatus try_put(T&& value,
                                    interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Queue::try_put", this, where);
    return core_.put(value, Mode::try_once, {});
  }
  // As try_put(T&&), putting a copy of `value`.
  [[nodiscard]] QueueStatus try_put(const T& value,
                                    interleave::source_location where = interleave::source_location::current()) requires
      std::is_copy_constructible_v<T> {
    typename P::Operation op("Queue::try_put", this, where);
    T copy(value);
    return core_.put(copy, Mode::try_once, {});
  }

  // Puts `value`, waiting at most `timeout` for room: ok (moved from), timed_out or closed (not
  // moved from); `full` only for a zero timeout. A negative timeout throws std::invalid_argument.
  template <class Rep, class Period>
  [[nodiscard]] QueueStatus try_put_for(T&& value, std::chrono::duration<Rep, Period> timeout,
                                        interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Queue::try_put_for", this, where);
    const auto deadline = detail::deadline_after(P::now(), timeout, "Queue::try_put_for");
    const Mode mode = timeout == decltype(timeout)::zero() ? Mode::try_once : Mode::until_deadline;
    return core_.put(value, mode, deadline);
  }

  // Takes the front item, blocking while the queue is empty and open. std::nullopt means the
  // queue is closed and drained.
  [[nodiscard]] std::optional<T> get(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Queue::get", this, where);
    std::optional<T> out;
    core_.get(out, Mode::forever, {});
    return out;
  }

  // Takes the front item if there is one now. Status ok (with the item), empty (open, nothing
  // queued) or closed (closed and drained).
  QueueResult<T> try_get(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Queue::try_get", this, where);
    std::optional<T> out;
    const QueueStatus status = core_.get(out, Mode::try_once, {});
    return status == QueueStatus::ok ? QueueResult<T>(std::move(out)) : QueueResult<T>(status);
  }

  // As get(), waiting at most `timeout`: ok (with the item), timed_out, or closed (closed and
  // drained); `empty` only for a zero timeout. A negative timeout throws std::invalid_argument.
  template <class Rep, class Period>
  QueueResult<T> get_for(std::chrono::duration<Rep, Period> timeout,
                         interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Queue::get_for", this, where);
    const auto deadline = detail::deadline_after(P::now(), timeout, "Queue::get_for");
    const Mode mode = timeout == decltype(timeout)::zero() ? Mode::try_once : Mode::until_deadline;
    std::optional<T> out;
    const QueueStatus status = core_.get(out, mode, deadline);
    return status == QueueStatus::ok ? QueueResult<T>(std::move(out)) : QueueResult<T>(status);
  }

  // Closes the queue and wakes every blocked thread (see Closing above). Throws
  // std::logic_error if it is already closed.
  void close(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("Queue::close", this, where);
    core_.close("Queue::close");
  }

  // True once close() has begun (a put already past its check may still complete).
  [[nodiscard]] bool is_closed(interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Queue::is_closed", this, where);
    return core_.is_closed();
  }
  // A snapshot: may be stale as soon as it returns.
  [[nodiscard]] std::size_t size(interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Queue::size", this, where);
    return core_.size();
  }
  // A snapshot: may be stale as soon as it returns (see the racy-consumer note above).
  [[nodiscard]] bool empty(interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Queue::empty", this, where);
    return core_.size() == 0;
  }
  // The most items the queue holds; `unbounded` (0) for an unbounded queue.
  [[nodiscard]] std::size_t capacity() const noexcept { return core_.capacity(); }

 private:
  Core core_;
};

template <class T>
using Queue = BasicQueue<T>;

// SharedQueue: the queue for use between processes.
//
// Requires  T trivially copyable (items are bytes in shared memory; a pointer inside one would
//           mean nothing in another process). Always bounded: the slots are allocated up front.
//           Create it before Process::start(); the parent and every child fork()ed afterwards use
//           the same object (fork keeps addresses). P must be process-shared
//           (NativeSharedPlatform) for its futex waits to be woken across processes. The
//           creating process destroys it after the children using it have exited.
// Guarantees, memory ordering, blocking, timeouts and closing: as Queue above, between
//           processes as between threads.
// Killed processes
//           A process killed at any point (SIGKILL included) loses at most its own in-flight
//           item; no other item is lost, duplicated or corrupted; nobody blocks past their
//           deadline, or forever after close(). Precisely: a producer killed inside put loses the
//           item it was putting (or it is delivered, if the put had published it); a consumer
//           killed inside get loses the item it was taking; every other item, earlier or later,
//           is still got exactly once, and the queue still reports closed after close().
//           How: each operation announces the ring position it claims in a record held under a
//           robust lock (detail/robust.h); a thread that finds a position claimed and
//           unfinished while its claimant is dead finishes it (an unpublished item is skipped, an
//           unfreed slot is freed). Cost on this path only: a lock and unlock of that record per
//           put/get, and a blocked thread wakes after 1, 2, 4 ... 32 ms (then every 32 ms) to look
//           for a dead claimant, which notifies nobody; it notices one within that interval.
//           Queue (threads) has none of this. Up to 64 threads may be inside operations on one
//           SharedQueue at the same instant; more wait (yielding) for a free record.
template <class T, Platform P = NativeSharedPlatform>
class BasicSharedQueue {
  static_assert(std::is_trivially_copyable_v<T>,
                "SharedQueue<T>: T must be trivially copyable (its bytes are copied through memory shared "
                "between processes); use Queue<T> to pass other types between threads");
  static_assert(!std::is_const_v<T> && !std::is_volatile_v<T> && !std::is_array_v<T>,
                "SharedQueue<T>: T must be a non-const, non-volatile, non-array object type");
  using Core = detail::QueueCore<T, P>;
  using RingType = typename Core::RingType;
  using Slot = typename Core::Slot;
  using Mode = typename Core::Mode;

 public:
  static constexpr std::ptrdiff_t default_capacity = 1024;

  // Maps one SharedRegion holding the queue's state and `capacity` slots. capacity <= 0 (or too
  // large to map) throws std::invalid_argument.
  explicit BasicSharedQueue(std::ptrdiff_t capacity = default_capacity)
      : region_(region_bytes(detail::checked_capacity(capacity, "SharedQueue"))) {
    const auto slots_count = static_cast<std::uint64_t>(capacity);
    auto* base = static_cast<std::byte*>(region_.data());
    Slot* slots = std::uninitialized_default_construct_n(reinterpret_cast<Slot*>(base + slots_offset()),
                                                         static_cast<std::size_t>(slots_count)) -
                  static_cast<std::ptrdiff_t>(slots_count);
    auto* ring = ::new (base + ring_offset()) RingType(slots, slots_count, false);
    registry_ = ::new (base + registry_offset()) detail::ClaimRegistry();
    core_ = ::new (base) Core(slots_count, ring, registry_);
  }
  BasicSharedQueue(const BasicSharedQueue&) = delete;
  BasicSharedQueue& operator=(const BasicSharedQueue&) = delete;
  ~BasicSharedQueue() {
    std::destroy_at(core_);
    std::destroy_at(registry_);
  }

  void put(T value, interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedQueue::put", this, where);
    if (core_->put(value, Mode::forever, {}) == QueueStatus::closed) {
      throw QueueClosed("SharedQueue::put: the queue was closed");
    }
  }
  [[nodiscard]] QueueStatus try_put(const T& value,
                                    interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedQueue::try_put", this, where);
    T copy(value);
    return core_->put(copy, Mode::try_once, {});
  }
  template <class Rep, class Period>
  [[nodiscard]] QueueStatus try_put_for(const T& value, std::chrono::duration<Rep, Period> timeout,
                                        interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedQueue::try_put_for", this, where);
    const auto deadline = detail::deadline_after(P::now(), timeout, "SharedQueue::try_put_for");
    const Mode mode = timeout == decltype(timeout)::zero() ? Mode::try_once : Mode::until_deadline;
    T copy(value);
    return core_->put(copy, mode, deadline);
  }
  [[nodiscard]] std::optional<T> get(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedQueue::get", this, where);
    std::optional<T> out;
    core_->get(out, Mode::forever, {});
    return out;
  }
  QueueResult<T> try_get(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedQueue::try_get", this, where);
    std::optional<T> out;
    const QueueStatus status = core_->get(out, Mode::try_once, {});
    return status == QueueStatus::ok ? QueueResult<T>(std::move(out)) : QueueResult<T>(status);
  }
  template <class Rep, class Period>
  QueueResult<T> get_for(std::chrono::duration<Rep, Period> timeout,
                         interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedQueue::get_for", this, where);
    const auto deadline = detail::deadline_after(P::now(), timeout, "SharedQueue::get_for");
    const Mode mode = timeout == decltype(timeout)::zero() ? Mode::try_once : Mode::until_deadline;
    std::optional<T> out;
    const QueueStatus status = core_->get(out, mode, deadline);
    return status == QueueStatus::ok ? QueueResult<T>(std::move(out)) : QueueResult<T>(status);
  }
  void close(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedQueue::close", this, where);
    core_->close("SharedQueue::close");
  }
  [[nodiscard]] bool is_closed(interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("SharedQueue::is_closed", this, where);
    return core_->is_closed();
  }
  [[nodiscard]] std::size_t size(interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("SharedQueue::size", this, where);
    return core_->size();
  }
  [[nodiscard]] bool empty(interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("SharedQueue::empty", this, where);
    return core_->size() == 0;
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return core_->capacity(); }

 private:
  // Layout of the region: the core, the claim registry, its one ring, then the slots.
  static constexpr std::size_t round_up(std::size_t n, std::size_t alignment) noexcept {
    return (n + alignment - 1) / alignment * alignment;
  }
  static constexpr std::size_t registry_offset() noexcept {
    return round_up(sizeof(Core), alignof(detail::ClaimRegistry));
  }
  static constexpr std::size_t ring_offset() noexcept {
    return round_up(registry_offset() + sizeof(detail::ClaimRegistry), alignof(RingType));
  }
  static constexpr std::size_t slots_offset() noexcept {
    return round_up(ring_offset() + sizeof(RingType), alignof(Slot));
  }
  static std::size_t region_bytes(std::uint64_t capacity) {
    static_assert(alignof(Core) <= 4096 && alignof(RingType) <= 4096 && alignof(Slot) <= 4096,
                  "SharedQueue<T>: T is over-aligned for a page-aligned region");
    if (capacity > (std::numeric_limits<std::size_t>::max() - slots_offset()) / sizeof(Slot)) {
      throw std::invalid_argument("SharedQueue: capacity " + std::to_string(capacity) +
                                  " is too large: its slots would not fit in the address space");
    }
    return slots_offset() + static_cast<std::size_t>(capacity) * sizeof(Slot);
  }

  SharedRegion region_;
  detail::ClaimRegistry* registry_ = nullptr;
  Core* core_ = nullptr;
};

template <class T>
using SharedQueue = BasicSharedQueue<T>;

}  // namespace interleave
