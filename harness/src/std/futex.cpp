// syscall(SYS_futex, ...) of the test program as the model's futex: libstdc++ waits on a futex
// directly (std::atomic<T>::wait/notify_one/notify_all, std::counting_semaphore, std::latch,
// std::barrier, and the contended paths of function-local statics and std::future). Inside an
// exploration a FUTEX_WAIT or FUTEX_WAIT_BITSET is a model futex wait (a wait nobody ends is a
// DEADLOCK, with the user's frame, instead of a hang; a timeout runs on the virtual clock), and a
// FUTEX_WAKE or FUTEX_WAKE_BITSET wakes the waiters the strategy picks and returns how many.
// Every other system call, and every call outside an exploration, is the C library's syscall().
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <ctime>
#include <string>

#include "std/objects.h"

namespace interleave::detail::std_runtime {
namespace {

constexpr int kCommandMask = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
constexpr std::uint32_t kMatchAny = FUTEX_BITSET_MATCH_ANY;

long failed(int error) noexcept {
  errno = error;
  return -1;
}

bool valid(const timespec& t) noexcept { return t.tv_sec >= 0 && t.tv_nsec >= 0 && t.tv_nsec < 1'000'000'000; }

// The modelled futex call; arguments as the kernel takes them. May unwind (the execution is torn
// down while the caller waits): the caller's noexcept frame then ends the fiber.
long futex(long* args, const void* pc) {
  const HookScope hook;
  auto* const word = reinterpret_cast<const std::uint32_t*>(args[0]);
  const auto op = static_cast<int>(args[1]);
  const auto value = static_cast<std::uint32_t>(args[2]);
  switch (op & kCommandMask) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      const bool bitset = (op & kCommandMask) == FUTEX_WAIT_BITSET;
      if (bitset && static_cast<std::uint32_t>(args[5]) == 0) return failed(EINVAL);
      const auto* timeout = reinterpret_cast<const timespec*>(args[3]);
      std::int64_t deadline = -1;
      if (timeout != nullptr) {
        if (!valid(*timeout)) return failed(EINVAL);
        // FUTEX_WAIT's timeout is relative; FUTEX_WAIT_BITSET's is absolute, on CLOCK_MONOTONIC
        // unless FUTEX_CLOCK_REALTIME is set.
        deadline = !bitset ? model::now_ns() + to_ns(*timeout)
                           : deadline_of((op & FUTEX_CLOCK_REALTIME) != 0 ? CLOCK_REALTIME : CLOCK_MONOTONIC, *timeout);
      }
      const Operation name("futex wait", word, pc);
      // A word that no longer holds `value` returns 0 here, as a spurious wake-up would, not
      // EAGAIN: the model's wait does not tell the two apart, and callers retry on both.
      if (!futex_wait(word, value, deadline)) return failed(ETIMEDOUT);
      return 0;
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      if ((op & kCommandMask) == FUTEX_WAKE_BITSET && static_cast<std::uint32_t>(args[5]) != kMatchAny) {
        model::fail_later(FailureKind::contract_violation,
                          "syscall(SYS_futex, FUTEX_WAKE_BITSET) with a bitset other than FUTEX_BITSET_MATCH_ANY is "
                          "not modelled (waits with any bitset, wakes with FUTEX_BITSET_MATCH_ANY are)",
                          caller_location(pc));
        return failed(ENOSYS);
      }
      const int count = static_cast<int>(args[2]);
      return futex_wake(word, count < 0 ? 0 : static_cast<std::uint32_t>(count));
    }
    default:
      model::fail_later(FailureKind::contract_violation,
                        "syscall(SYS_futex) operation " + std::to_string(op & kCommandMask) +
                            " is not modelled (FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAKE and FUTEX_WAKE_BITSET are)",
                        caller_location(pc));
      return failed(ENOSYS);
  }
}

}  // namespace
}  // namespace interleave::detail::std_runtime

namespace rt = interleave::detail::std_runtime;

extern "C" long syscall(long number, ...) noexcept {
  using Syscall = long (*)(long, ...);
  static const Syscall real_syscall = rt::real<Syscall>("syscall");
  // The kernel takes at most six arguments, all in registers: forward six whatever the call passed.
  long args[6];
  va_list list;
  va_start(list, number);
  for (long& arg : args) arg = va_arg(list, long);
  va_end(list);
  if (number == SYS_futex && rt::modelled()) return rt::futex(args, __builtin_return_address(0));
  return real_syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
}
