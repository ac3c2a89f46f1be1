#include "interleave/detail/robust.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <system_error>

namespace interleave::detail {

namespace {

RobustLockResult decode(int rc) noexcept {
  switch (rc) {
    case 0:
      return RobustLockResult::acquired;
    case EOWNERDEAD:
      return RobustLockResult::owner_died;
    case ETIMEDOUT:
      return RobustLockResult::timed_out;
    default:
      return RobustLockResult::busy;  // EBUSY (ENOTRECOVERABLE cannot happen: owner_died is always repaired)
  }
}

// Where a thread starts looking for a free claim record: spreads threads over the records.
thread_local std::size_t record_hint = 0;

}  // namespace

RobustLock::RobustLock() {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
  const int rc = pthread_mutex_init(&mutex_, &attributes);
  pthread_mutexattr_destroy(&attributes);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "RobustLock: pthread_mutex_init failed");
}

RobustLock::~RobustLock() { pthread_mutex_destroy(&mutex_); }

// Every owner_died is repaired at once: the callers keep their shared state consistent at every
// instruction (a dead holder leaves no half-done change that matters), so the lock is usable.
//
// A waiter never sleeps on the lock for longer than kHandOffRecheck at a time: an unlock wakes
// one sleeper, and when that one is killed before it takes the lock while another process takes
// it meanwhile, the kernel sees no dead holder (the lock is held, by a live process) and wakes
// nobody, so the other sleepers would sleep on until someone else contends. A sleeper that
// looks again after the recheck interval finds the lock free (or held, and sleeps again).
namespace {

constexpr std::int64_t kHandOffRecheck = 32'000'000;  // ns

std::int64_t monotonic_now_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

}  // namespace

RobustLockResult RobustLock::lock() noexcept {
  for (;;) {
    const RobustLockResult result = try_lock();
    if (result != RobustLockResult::busy) return result;
    if (const RobustLockResult timed = lock_slice(monotonic_now_ns() + kHandOffRecheck);
        timed != RobustLockResult::timed_out) {
      return timed;
    }
  }
}

RobustLockResult RobustLock::lock_until(std::int64_t deadline_ns) noexcept {
  for (;;) {
    const std::int64_t slice_end = std::min(deadline_ns, monotonic_now_ns() + kHandOffRecheck);
    const RobustLockResult result = lock_slice(slice_end);
    if (result != RobustLockResult::timed_out || slice_end == deadline_ns) return result;
  }
}

RobustLockResult RobustLock::lock_slice(std::int64_t deadline_ns) noexcept {
  timespec deadline{};
  deadline.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
  deadline.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer (g++ 12's runtime) intercepts pthread_mutex_timedlock but not clocklock: a
  // lock it never saw would be reported at its unlock. timedlock takes a CLOCK_REALTIME deadline.
  timespec now_monotonic{};
  timespec now_realtime{};
  clock_gettime(CLOCK_MONOTONIC, &now_monotonic);
  clock_gettime(CLOCK_REALTIME, &now_realtime);
  const std::int64_t offset = (std::int64_t{now_realtime.tv_sec} - now_monotonic.tv_sec) * 1'000'000'000 +
                              (now_realtime.tv_nsec - now_monotonic.tv_nsec);
  const std::int64_t realtime_ns = deadline_ns + offset;
  deadline.tv_sec = static_cast<time_t>(realtime_ns / 1'000'000'000);
  deadline.tv_nsec = static_cast<long>(realtime_ns % 1'000'000'000);
  const RobustLockResult result = decode(pthread_mutex_timedlock(&mutex_, &deadline));
#else
  const RobustLockResult result = decode(pthread_mutex_clocklock(&mutex_, CLOCK_MONOTONIC, &deadline));
#endif
  if (result == RobustLockResult::owner_died) pthread_mutex_consistent(&mutex_);
  return result;
}

RobustLockResult RobustLock::try_lock() noexcept {
  const RobustLockResult result = decode(pthread_mutex_trylock(&mutex_));
  if (result == RobustLockResult::owner_died) pthread_mutex_consistent(&mutex_);
  return result;
}

void RobustLock::unlock() noexcept { pthread_mutex_unlock(&mutex_); }

ClaimRegistry::Record* ClaimRegistry::acquire() noexcept {
  for (;;) {
    for (std::size_t i = 0; i < kRecords; ++i) {
      const std::size_t index = (record_hint + i) % kRecords;
      Record& record = records_[index];
      const RobustLockResult result = record.lock.try_lock();
      if (result != RobustLockResult::busy) {
        // A record left by a dead thread still names its claim: that claim is dead, drop it.
        if (result == RobustLockResult::owner_died) record.claim.store(0, std::memory_order_seq_cst);
        record_hint = index;
        return &record;
      }
    }
    sched_yield();  // every record is in use by a live thread inside an operation: brief
  }
}

void ClaimRegistry::release(Record* record) noexcept {
  if (record == nullptr) return;
  record->claim.store(0, std::memory_order_seq_cst);
  record->lock.unlock();
}

bool ClaimRegistry::live_claim(Operation operation, std::uint64_t position) noexcept {
  const std::uint64_t wanted = encode(operation, position);
  for (Record& record : records_) {
    if (record.claim.load(std::memory_order_seq_cst) != wanted) continue;
    if (record.lock.try_lock() == RobustLockResult::busy) return true;  // its live holder is on it
    // Free (the claimant finished meanwhile) or its holder died: not live. Leave it clean.
    record.claim.store(0, std::memory_order_seq_cst);
    record.lock.unlock();
  }
  return false;
}

}  // namespace interleave::detail
