// SharedMutex: a reader-writer lock that prefers writers (std::shared_timed_mutex), one futex
// word for readers and the writer, one more for writers waiting their turn.
//
// Purpose   Protects data that many threads (or, as BasicSharedMutex<NativeSharedPlatform> placed
//           in shared memory, processes) read and few write: any number of readers hold it
//           together (lock_shared), a writer holds it alone (lock). Meets the SharedTimedLockable
//           requirements, so std::shared_lock, std::unique_lock, std::lock_guard and
//           std::scoped_lock work.
// Requires  unlock() only by the writer that holds it (builds with assertions, as for Mutex,
//           report an unlock by another thread or of a lock no writer holds); unlock_shared() only
//           by a thread holding a shared lock: one with no reader inside is a contract violation
//           in every build. Not recursive in either mode: a
//           writer taking it again, or a reader upgrading, deadlocks (the model reports it).
// Guarantees
//   - Writers exclude everyone: while a writer holds it, no other writer and no reader does.
//   - Readers exclude writers: while any reader holds it, no writer does.
//   - Writers first (no writer starvation): a writer announces itself as soon as no other writer
//     is announced or holds the lock (readers cannot delay that), and then waits only for the
//     readers inside at that moment; a reader arriving after the announcement (lock_shared or
//     try_lock_shared) waits for, or fails before, that writer. Among themselves writers are
//     not fair: the one woken when a writer leaves may lose to one just arriving.
//   - try_lock / try_lock_shared never block and never grant a lock that conflicts with one
//     held; the timed forms return false only when the lock could not be taken before the
//     deadline, and then leave nothing behind (a timed-out writer withdraws its announcement).
// Memory ordering
//   Everything written by a writer before unlock() is visible to every thread after its next
//   successful lock or lock_shared; everything a reader wrote before unlock_shared() (to data it
//   may write, such as atomics) is visible to the next writer after its lock.
// Blocking  Readers sleep on the lock word while a writer is announced; a writer sleeps on the
//           writers' word while another writer is announced, then on the lock word until the
//           readers inside leave. A system call is made only when a thread sleeps or may be
//           sleeping: uncontended, lock+unlock is one compare-exchange and one exchange.
// Timeouts  try_lock_for / try_lock_shared_for(d): d < 0 throws std::invalid_argument; d == 0 is
//           one try. The _until forms accept any clock (another clock than the platform's counts
//           as the same distance from now).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "interleave/mutex.h"
#include "interleave/native_platform.h"
#include "interleave/source_location.h"
#include "interleave/timeout.h"

namespace interleave {

template <Platform P = NativePlatform>
class BasicSharedMutex {
 public:
  BasicSharedMutex() noexcept = default;
  BasicSharedMutex(const BasicSharedMutex&) = delete;
  BasicSharedMutex& operator=(const BasicSharedMutex&) = delete;

  // --- Exclusive (writer) side.

  void lock(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedMutex::lock", this, where);
    std::uint32_t expected = 0;
    if (!word_.compare_exchange_strong(expected, kWriter, std::memory_order_acquire, std::memory_order_relaxed)) {
      (void)announce(nullptr);
      (void)drain_readers(nullptr);
    }
    note_owner();
  }

  [[nodiscard]] bool try_lock(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedMutex::try_lock", this, where);
    std::uint32_t expected = 0;  // nobody inside, no writer announced, so nobody sleeps
    if (!word_.compare_exchange_strong(expected, kWriter, std::memory_order_acquire, std::memory_order_relaxed)) {
      return false;
    }
    note_owner();
    return true;
  }

  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_for(std::chrono::duration<Rep, Period> timeout,
                                  interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedMutex::try_lock_for", this, where);
    const auto deadline = detail::deadline_after(P::now(), timeout, "SharedMutex::try_lock_for");
    if (timeout == decltype(timeout)::zero()) return try_lock(where);
    return lock_until(deadline);
  }

  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_until(std::chrono::time_point<Clock, Duration> deadline,
                                    interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedMutex::try_lock_until", this, where);
    const auto now = P::now();
    const auto at = detail::deadline_at(now, deadline);
    if (at <= now) return try_lock(where);
    return lock_until(at);
  }

  void unlock(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedMutex::unlock", this, where);
    check_owner_on_unlock(where);
    // No reader is inside (the writer waited for them to leave); some may sleep.
    if ((word_.exchange(0, std::memory_order_seq_cst) & kReadersSleep) != 0) P::wake_all(word_);
    wake_a_writer();
  }

  // --- Shared (reader) side.

  void lock_shared(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedMutex::lock_shared", this, where);
    if (try_enter()) return;
    for (int i = 0; i < P::spin_limit; ++i) {
      P::relax();
      if (try_enter()) return;
    }
    (void)sleep_until_entered(nullptr);
  }

  [[nodiscard]] bool try_lock_shared(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedMutex::try_lock_shared", this, where);
    return try_enter();
  }

  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_shared_for(std::chrono::duration<Rep, Period> timeout,
                                         interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedMutex::try_lock_shared_for", this, where);
    const auto deadline = detail::deadline_after(P::now(), timeout, "SharedMutex::try_lock_shared_for");
    if (try_enter()) return true;
    if (timeout == decltype(timeout)::zero()) return false;
    return sleep_until_entered(&deadline);
  }

  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_shared_until(std::chrono::time_point<Clock, Duration> deadline,
                                           interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedMutex::try_lock_shared_until", this, where);
    const auto now = P::now();
    const auto at = detail::deadline_at(now, deadline);
    if (try_enter()) return true;
    if (at <= now) return false;
    return sleep_until_entered(&at);
  }

  void unlock_shared(interleave::source_location where = interleave::source_location::current()) {
    typename P::Operation op("SharedMutex::unlock_shared", this, where);
    const std::uint32_t old = word_.fetch_sub(1, std::memory_order_release);
    if ((old & kReaders) == 0) {
      P::contract_violation("SharedMutex::unlock_shared: no reader holds the lock (thread " +
                                std::to_string(P::this_thread_id()) + " unlocked it)",
                            where);
    }
    // The last reader out while a writer is announced lets it in. Readers sleeping on the same
    // word wake too and go back to sleep: this happens once per write lock.
    if ((old & kReaders) == 1 && (old & kWriter) != 0) P::wake_all(word_);
  }

 private:
  // The lock word: readers inside (low 30 bits), "a writer is announced or holds the lock", and
  // "some reader sleeps waiting for the writer".
  static constexpr std::uint32_t kReaders = 0x3fffffffU;
  static constexpr std::uint32_t kWriter = 0x40000000U;
  static constexpr std::uint32_t kReadersSleep = 0x80000000U;

  // A reader gets in when no writer is announced. It gives up only after a read-modify-write saw
  // the writer bit: a plain load may read an older value than the latest (the C++ memory model
  // allows it, and the model explores it), and a stale writer bit must not make try_lock_shared
  // fail while no writer holds the lock.
  bool try_enter() {
    std::uint32_t word = word_.load(std::memory_order_relaxed);
    for (;;) {
      if ((word & kWriter) != 0) {
        if (word_.compare_exchange_strong(word, word, std::memory_order_relaxed, std::memory_order_relaxed)) {
          return false;
        }
        continue;
      }
      if (word_.compare_exchange_weak(word, word + 1, std::memory_order_acquire, std::memory_order_relaxed)) {
        return true;
      }
    }
  }

  // A reader's sleeping path: mark a sleeper, sleep while a writer is announced. False only when
  // `deadline` passed.
  bool sleep_until_entered(const typename P::TimePoint* deadline) {
    std::uint32_t word = word_.load(std::memory_order_relaxed);
    for (;;) {
      if ((word & kWriter) == 0) {
        if (word_.compare_exchange_weak(word, word + 1, std::memory_order_acquire, std::memory_order_relaxed)) {
          return true;
        }
        continue;
      }
      if ((word & kReadersSleep) == 0 &&
          !word_.compare_exchange_weak(word, word | kReadersSleep, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
        continue;
      }
      const std::uint32_t sleeping = word | kReadersSleep;
      if (deadline == nullptr) {
        P::wait(word_, sleeping);
      } else if (!P::wait_until(word_, sleeping, *deadline)) {
        return try_enter();  // one last look: a writer leaving at the deadline is not missed
      }
      word = word_.load(std::memory_order_relaxed);
    }
  }

  // The announced writer waits for the readers inside to leave. False only when `deadline` passed
  // first; the announcement is then withdrawn.
  bool drain_readers(const typename P::TimePoint* deadline) {
    std::uint32_t word = word_.load(std::memory_order_acquire);
    while ((word & kReaders) != 0) {
      if (deadline == nullptr) {
        P::wait(word_, word);
      } else if (!P::wait_until(word_, word, *deadline)) {
        if ((word_.load(std::memory_order_acquire) & kReaders) == 0) return true;
        withdraw();
        return false;
      }
      word = word_.load(std::memory_order_acquire);
    }
    return true;
  }

  // A writer that timed out while readers are inside: let new readers in again.
  void withdraw() {
    std::uint32_t word = word_.load(std::memory_order_relaxed);
    while (!word_.compare_exchange_weak(word, word & kReaders, std::memory_order_seq_cst, std::memory_order_relaxed)) {
    }
    if ((word & kReadersSleep) != 0) P::wake_all(word_);
    wake_a_writer();
  }

  // Why a writer waiting its turn is never left asleep. It does (all seq_cst)
  //     W1: writers_waiting_ += 1   W2: read writer_turn_   W3: read word_, sees kWriter
  //     W4: futex_wait(writer_turn_, what W2 read)
  // and the writer leaving does U1: word_ loses kWriter (exchange), U2: read writers_waiting_,
  // U3: if nonzero, writer_turn_ += 1 and wake one. W3 saw kWriter, so W3 precedes U1 in the single
  // total order of seq_cst operations; then W1 precedes U2, which sees the waiter, and U3's
  // increment comes after W2's read, so W4 either returns at once or is woken. A woken writer that
  // loses the race for kWriter waits again, for the winner's unlock.
  void wake_a_writer() {
    if (writers_waiting_.load(std::memory_order_seq_cst) == 0) return;
    writer_turn_.fetch_add(1, std::memory_order_seq_cst);
    P::wake_one(writer_turn_);
  }

  // Becomes the announced writer (sets kWriter) once no other writer is announced. False only
  // when `deadline` passed first.
  bool announce(const typename P::TimePoint* deadline) {
    std::uint32_t word = word_.load(std::memory_order_relaxed);
    for (;;) {
      if ((word & kWriter) == 0) {
        if (word_.compare_exchange_weak(word, word | kWriter, std::memory_order_acquire, std::memory_order_relaxed)) {
          return true;
        }
        continue;
      }
      writers_waiting_.fetch_add(1, std::memory_order_seq_cst);
      const std::uint32_t turn = writer_turn_.load(std::memory_order_seq_cst);
      bool timed_out = false;
      if ((word_.load(std::memory_order_seq_cst) & kWriter) != 0) {
        if (deadline == nullptr) {
          P::wait(writer_turn_, turn);
        } else {
          timed_out = !P::wait_until(writer_turn_, turn, *deadline);
        }
      }
      writers_waiting_.fetch_sub(1, std::memory_order_relaxed);
      word = word_.load(std::memory_order_relaxed);
      if (timed_out) {
        // One last attempt, so a writer leaving right at the deadline is not missed.
        return (word & kWriter) == 0 && word_.compare_exchange_strong(word, word | kWriter, std::memory_order_acquire,
                                                                      std::memory_order_relaxed);
      }
    }
  }

  bool lock_until(typename P::TimePoint deadline) {
    if (!announce(&deadline)) return false;
    if (!drain_readers(&deadline)) return false;
    note_owner();
    return true;
  }

  void note_owner() noexcept {
    if constexpr (INTERLEAVE_CHECK_OWNERSHIP) owner_.store(P::this_thread_id(), std::memory_order_relaxed);
  }

  void check_owner_on_unlock(interleave::source_location where) {
    if constexpr (INTERLEAVE_CHECK_OWNERSHIP) {
      const std::uint32_t me = P::this_thread_id();
      const std::uint32_t owner = owner_.load(std::memory_order_relaxed);
      if (owner == 0) {
        P::contract_violation(
            "SharedMutex::unlock: no writer holds the lock (thread " + std::to_string(me) + " unlocked it)", where);
      }
      if (owner != me) {
        P::contract_violation("SharedMutex::unlock: thread " + std::to_string(me) +
                                  " does not hold the lock (it is held by thread " + std::to_string(owner) + ")",
                              where);
      }
      owner_.store(0, std::memory_order_relaxed);
    }
  }

  // Readers inside, "a writer is announced or holds the lock", "some reader sleeps".
  typename P::template Atomic<std::uint32_t> word_{0};
  // Writers waiting for the announced writer to leave sleep on writer_turn_, which every leaving
  // writer advances when writers_waiting_ says someone may sleep.
  typename P::template Atomic<std::uint32_t> writers_waiting_{0};
  typename P::template Atomic<std::uint32_t> writer_turn_{0};
  // The holding writer's thread id, kept only when INTERLEAVE_CHECK_OWNERSHIP is on (always
  // present, so debug and release objects have the same layout). Bookkeeping: a plain
  // std::atomic, no scheduling point under the model (see BasicMutex::owner_).
  std::atomic<std::uint32_t> owner_{0};
};

using SharedMutex = BasicSharedMutex<>;
// For a SharedMutex placed in memory shared between processes.
using ProcessSharedMutex = BasicSharedMutex<NativeSharedPlatform>;

}  // namespace interleave
