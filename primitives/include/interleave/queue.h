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
//           "not full" (detail::QueueCore in detail/queue_core.h). A put or get that need not
//           wait costs a few atomic operations and no system call; one that must wait spins
//           P::spin_limit tries, then registers on the condition, re-tries once, and sleeps.
//           One algorithm serves both forms; only where the slots live differs (heap for Queue,
//           one SharedRegion for SharedQueue). Measured on 2 cores (bench/queue_benchmark.cpp)
//           it moves items 1.6-1.8x faster than a std::mutex + std::condition_variable +
//           std::deque queue.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "interleave/detail/queue_core.h"
#include "interleave/native_platform.h"
#include "interleave/queue_status.h"
#include "interleave/shared_memory.h"
#include "interleave/source_location.h"
#include "interleave/timeout.h"

namespace interleave {

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
