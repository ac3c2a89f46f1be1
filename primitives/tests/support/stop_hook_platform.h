// Test support: a process-shared native platform whose atomics can stop the calling process
// (SIGSTOP) just before one chosen operation, so a test can kill a child at a known point inside
// a primitive's operation (holding a lock, or owning a claimed ring slot) without sleeping.
//
//   child:   stop_before(StopPoint::store_u64);  q.put(1);   // stops inside put
//   parent:  wait_until_stopped(child.pid());  child.kill(SIGKILL);
//
// The hook fires once per process (then disarms itself), only in the process that armed it.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <thread>
#include <type_traits>

#include "interleave/native_platform.h"

namespace interleave::test_support {

enum class StopPoint : std::uint8_t {
  nothing,
  store_u64,      // the next store to a 64-bit unsigned atomic (a ring slot's sequence)
  fetch_add_u32,  // the next fetch_add on a 32-bit unsigned atomic (a pipe's futex word, under its lock)
};

inline StopPoint& armed_stop_point() noexcept {
  static StopPoint point = StopPoint::nothing;
  return point;
}

inline void stop_before(StopPoint point) noexcept { armed_stop_point() = point; }

inline void stop_here_if(StopPoint point) noexcept {
  if (armed_stop_point() != point) return;
  armed_stop_point() = StopPoint::nothing;
  raise(SIGSTOP);
}

template <class T>
struct StopHookAtomic : std::atomic<T> {
  using std::atomic<T>::atomic;
  using std::atomic<T>::operator=;

  void store(T value, std::memory_order order = std::memory_order_seq_cst) noexcept {
    if constexpr (std::is_same_v<T, std::uint64_t>) stop_here_if(StopPoint::store_u64);
    std::atomic<T>::store(value, order);
  }
  T fetch_add(T delta, std::memory_order order = std::memory_order_seq_cst) noexcept requires std::is_integral_v<T> {
    if constexpr (std::is_same_v<T, std::uint32_t>) stop_here_if(StopPoint::fetch_add_u32);
    return std::atomic<T>::fetch_add(delta, order);
  }
};

struct StopHookPlatform : NativeSharedPlatform {
  template <class T>
  using Atomic = StopHookAtomic<T>;
};
static_assert(Platform<StopHookPlatform>);

// Waits (up to 10 s) until child `pid` is stopped: true. False when it ended instead, or never
// stopped in time. Does not reap it.
inline bool wait_until_stopped(pid_t pid) {
  using namespace std::chrono_literals;
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < give_up) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WSTOPPED | WEXITED | WNOWAIT | WNOHANG) == -1 && errno != EINTR) {
      return false;
    }
    if (info.si_pid == pid) return info.si_code == CLD_STOPPED;
    std::this_thread::sleep_for(100us);  // polling for a state change, bounded above
  }
  return false;
}

}  // namespace interleave::test_support
