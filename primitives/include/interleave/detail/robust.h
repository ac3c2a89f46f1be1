// What the process-shared primitives use to survive a process that dies (SIGKILL) inside one of
// their operations. Native only: the model platform never uses them (its threads are fibers that
// cannot be killed one by one).
//
// detail::RobustLock  A lock in shared memory whose holder may die holding it: the kernel marks
//           the lock "owner died" when the holding thread ends (the robust futex list: a POSIX
//           robust, process-shared pthread mutex), wakes a waiter, and the next locker gets it
//           with RobustLockResult::owner_died. That survives pid reuse and zombies (the kernel
//           acts when the thread dies, not when someone looks). A waiter also looks again every
//           32 ms while it waits, for the one death the kernel cannot see: a waiter woken by an
//           unlock that is killed before it takes the lock (robust.cpp says more).
//
// detail::ClaimRegistry  Who is inside a lock-free operation right now, for the SharedQueue's
//           ring (detail/ring.h). Before a thread claims a ring position it takes a record,
//           holds the record's RobustLock and writes (operation, position) into it; it clears
//           and unlocks the record once the position is finished (published or freed). A
//           position that stays claimed but unfinished is therefore stuck for good exactly when
//           no record announcing it is held by a live thread: a try_lock of the record then
//           succeeds (or reports owner_died), where a live claimant's record is busy.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace interleave::detail {

enum class RobustLockResult : std::uint8_t {
  acquired,    // held now
  owner_died,  // held now; the previous holder died holding it (the lock is usable again)
  timed_out,   // lock_until: the deadline passed first; not held
  busy,        // try_lock: held by a live thread; not held
};

class RobustLock {
 public:
  RobustLock();
  ~RobustLock();
  RobustLock(const RobustLock&) = delete;
  RobustLock& operator=(const RobustLock&) = delete;

  // Blocks until held: acquired or owner_died.
  RobustLockResult lock() noexcept;
  // As lock(), giving up at `deadline_ns` (CLOCK_MONOTONIC nanoseconds, what steady_clock
  // reads): acquired, owner_died or timed_out.
  RobustLockResult lock_until(std::int64_t deadline_ns) noexcept;
  // Never blocks: acquired, owner_died or busy.
  RobustLockResult try_lock() noexcept;
  void unlock() noexcept;

 private:
  // One timed wait for the lock (at most until deadline_ns): acquired, owner_died or timed_out.
  RobustLockResult lock_slice(std::int64_t deadline_ns) noexcept;

  pthread_mutex_t mutex_;
};

class ClaimRegistry {
  struct Record;

 public:
  enum class Operation : std::uint64_t { none = 0, push = 1, pop = 2 };

  // Records enough for this many threads inside operations at the same instant; more wait for a
  // free record (yielding), they are never refused.
  static constexpr std::size_t kRecords = 64;

  ClaimRegistry() = default;
  ClaimRegistry(const ClaimRegistry&) = delete;
  ClaimRegistry& operator=(const ClaimRegistry&) = delete;

  // One operation's claim: takes a record on the first announce, clears and releases it when
  // destroyed (after the claimed position is finished).
  class Claim {
   public:
    explicit Claim(ClaimRegistry& registry) noexcept : registry_(registry) {}
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;
    ~Claim() { registry_.release(record_); }

    // Says "this thread may claim `position` for `operation`", before the claiming CAS. A later
    // announce replaces it (the CAS lost; the thread tries the next position).
    void announce(Operation operation, std::uint64_t position) noexcept {
      if (record_ == nullptr) record_ = registry_.acquire();
      record_->claim.store(encode(operation, position), std::memory_order_seq_cst);
    }

   private:
    ClaimRegistry& registry_;
    Record* record_ = nullptr;
  };

  // True when a live thread has announced (operation, position) and not finished it. Call only
  // after seeing the position claimed (its claiming CAS), with seq_cst loads: the announcement
  // is then visible. False means the claimant died (or finished meanwhile).
  [[nodiscard]] bool live_claim(Operation operation, std::uint64_t position) noexcept;

 private:
  friend class Claim;
  struct alignas(64) Record {
    RobustLock lock;
    std::atomic<std::uint64_t> claim{0};
  };

  static std::uint64_t encode(Operation operation, std::uint64_t position) noexcept {
    return (position << 2) | static_cast<std::uint64_t>(operation);
  }
  Record* acquire() noexcept;
  static void release(Record* record) noexcept;

  Record records_[kRecords];
};

}  // namespace interleave::detail
