#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "interleave/native_platform.h"

namespace interleave::detail {

bool futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected, std::int64_t deadline_ns,
                bool process_shared) noexcept {
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, which is what steady_clock reads.
  const int op = FUTEX_WAIT_BITSET | (process_shared ? 0 : FUTEX_PRIVATE_FLAG);
  timespec deadline{};
  timespec* deadline_ptr = nullptr;
  if (deadline_ns >= 0) {
    deadline.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
    deadline.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
    deadline_ptr = &deadline;
  }
  const long rc = syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(&word), op, expected, deadline_ptr, nullptr,
                          FUTEX_BITSET_MATCH_ANY);
  return !(rc == -1 && errno == ETIMEDOUT);
}

void futex_wake(const std::atomic<std::uint32_t>& word, int count, bool process_shared) noexcept {
  const int op = FUTEX_WAKE | (process_shared ? 0 : FUTEX_PRIVATE_FLAG);
  syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(&word), op, count, nullptr, nullptr, 0);
}

namespace {
thread_local std::uint32_t cached_tid = 0;

// fork() copies only the calling thread; its cached id must be re-read in the child.
[[maybe_unused]] const bool fork_handler_installed = [] {
  pthread_atfork(nullptr, nullptr, [] { cached_tid = 0; });
  return true;
}();
}  // namespace

std::uint32_t current_thread_id() noexcept {
  // gettid is unique across processes, which ownership checks of process-shared objects need.
  if (cached_tid == 0) cached_tid = static_cast<std::uint32_t>(syscall(SYS_gettid));
  return cached_tid;
}

void native_yield() noexcept { sched_yield(); }

void name_native_thread(std::string_view name) noexcept {
  char truncated[16] = {};  // the kernel keeps 15 bytes and the terminator
  name.copy(truncated, sizeof truncated - 1);
  pthread_setname_np(pthread_self(), truncated);
}

}  // namespace interleave::detail
