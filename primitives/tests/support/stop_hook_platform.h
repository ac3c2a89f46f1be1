// Test support: a process-shared native platform whose atomics can stop the calling process
// (SIGSTOP) just before one chosen operation, so a test can kill a child at a known point inside
// a primitive's operation (holding a lock, or owning a claimed ring slot) without sleeping.
//
//   child:   stop_before(StopPoint::store_u64);  q.put(1);   // stops inside put
//   parent:  wait_until_stopped(child.pid());  child.kill(SIGKILL);
//
// Or, for a kill at a random point, before the n-th atomic operation: stop_before_operation(n).
// A hook fires once per process (then disarms itself), only in the process that armed it; the
// hooks are process-wide, so arm them in one thread at a time.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <type_traits>

#include "interleave/native_platform.h"

namespace interleave::test_support {

enum class StopPoint : std::uint8_t {
  nothing,
  store_u64,      // the next store to a 64-bit unsigned atomic (a ring slot's sequence)
  fetch_add_u32,  // the next fetch_add on a 32-bit unsigned atomic (a pipe's futex word, under its lock)
  wake,           // the next futex wake call (after a change was published, the lock released)
};

inline StopPoint& armed_stop_point() noexcept {
  static StopPoint point = StopPoint::nothing;
  return point;
}

// Stops before a chosen kind of operation (once).
inline void stop_before(StopPoint point) noexcept { armed_stop_point() = point; }

inline std::uint64_t& operations_until_stop() noexcept {
  static std::uint64_t countdown = 0;
  return countdown;
}

// Stops before the n-th atomic operation (n >= 1) from now, of any kind: a random n puts the stop
// at a random point between two steps of the algorithm (inside a claim, holding a lock, ...).
inline void stop_before_operation(std::uint64_t n) noexcept { operations_until_stop() = n; }

// What a stop point does: stop the calling process (null, the default), or call this function
// (for a thread that must only pause there, say while another thread looks at the primitive).
inline void (*&stop_action() noexcept)() {
  static void (*action)() = nullptr;
  return action;
}

inline void stop_now() noexcept {
  if (void (*action)() = stop_action(); action != nullptr) {
    action();
  } else {
    raise(SIGSTOP);
  }
}

inline void stop_here_if(StopPoint point) noexcept {
  std::uint64_t& countdown = operations_until_stop();
  if (countdown != 0 && --countdown == 0) stop_now();
  if (point == StopPoint::nothing || armed_stop_point() != point) return;
  armed_stop_point() = StopPoint::nothing;
  stop_now();
}

template <class T>
struct StopHookAtomic : std::atomic<T> {
  using Base = std::atomic<T>;
  using Base::Base;
  using Base::operator=;

  T load(std::memory_order order = std::memory_order_seq_cst) const noexcept {
    stop_here_if(StopPoint::nothing);
    return Base::load(order);
  }
  void store(T value, std::memory_order order = std::memory_order_seq_cst) noexcept {
    stop_here_if(std::is_same_v<T, std::uint64_t> ? StopPoint::store_u64 : StopPoint::nothing);
    Base::store(value, order);
  }
  T exchange(T value, std::memory_order order = std::memory_order_seq_cst) noexcept {
    stop_here_if(StopPoint::nothing);
    return Base::exchange(value, order);
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success, std::memory_order failure) noexcept {
    stop_here_if(StopPoint::nothing);
    return Base::compare_exchange_weak(expected, desired, success, failure);
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order order = std::memory_order_seq_cst) noexcept {
    stop_here_if(StopPoint::nothing);
    return Base::compare_exchange_weak(expected, desired, order);
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order success, std::memory_order failure) noexcept {
    stop_here_if(StopPoint::nothing);
    return Base::compare_exchange_strong(expected, desired, success, failure);
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order order = std::memory_order_seq_cst) noexcept {
    stop_here_if(StopPoint::nothing);
    return Base::compare_exchange_strong(expected, desired, order);
  }
  T fetch_add(T delta, std::memory_order order = std::memory_order_seq_cst) noexcept requires std::is_integral_v<T> {
    stop_here_if(std::is_same_v<T, std::uint32_t> ? StopPoint::fetch_add_u32 : StopPoint::nothing);
    return Base::fetch_add(delta, order);
  }
  T fetch_sub(T delta, std::memory_order order = std::memory_order_seq_cst) noexcept requires std::is_integral_v<T> {
    stop_here_if(StopPoint::nothing);
    return Base::fetch_sub(delta, order);
  }
  T fetch_or(T bits, std::memory_order order = std::memory_order_seq_cst) noexcept requires std::is_integral_v<T> {
    stop_here_if(StopPoint::nothing);
    return Base::fetch_or(bits, order);
  }
  T fetch_and(T bits, std::memory_order order = std::memory_order_seq_cst) noexcept requires std::is_integral_v<T> {
    stop_here_if(StopPoint::nothing);
    return Base::fetch_and(bits, order);
  }
};

// A native platform with the hooks: its atomics, and its futex wake calls (each one an
// operation too, and a StopPoint::wake).
template <class Native>
struct StopHookPlatformOver : Native {
  template <class T>
  using Atomic = StopHookAtomic<T>;

  static void wake_one(const std::atomic<std::uint32_t>& word) noexcept {
    stop_here_if(StopPoint::wake);
    Native::wake_one(word);
  }
  static void wake(const std::atomic<std::uint32_t>& word, std::uint32_t count) noexcept {
    stop_here_if(StopPoint::wake);
    Native::wake(word, count);
  }
  static void wake_all(const std::atomic<std::uint32_t>& word) noexcept {
    stop_here_if(StopPoint::wake);
    Native::wake_all(word);
  }
};

struct StopHookPlatform : StopHookPlatformOver<NativeSharedPlatform> {};
static_assert(Platform<StopHookPlatform>);

// The same hooks in a platform for threads of one process (not process-shared).
struct StopHookThreadPlatform : StopHookPlatformOver<NativePlatform> {};
static_assert(Platform<StopHookThreadPlatform>);

// Waits until child `pid` stops (true) or ends (false), without reaping it. The kernel reports
// the change itself: a child that reaches no stop point runs to its end and exits.
inline bool wait_until_stopped(pid_t pid) {
  for (;;) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WSTOPPED | WEXITED | WNOWAIT) == 0) {
      return info.si_pid == pid && info.si_code == CLD_STOPPED;
    }
    if (errno != EINTR) return false;
  }
}

// Waits until process `pid` is asleep in the kernel (state S in /proc/<pid>/stat: a futex wait,
// say), or gives up after `bound` (false). For a test that must know a peer went to sleep before
// it acts: a process that only yields between checks stays runnable (state R).
inline bool wait_until_asleep(pid_t pid, std::chrono::steady_clock::duration bound) {
  const auto give_up = std::chrono::steady_clock::now() + bound;
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  while (std::chrono::steady_clock::now() < give_up) {
    std::ifstream stat(path);
    std::string line;
    std::getline(stat, line);
    // "pid (comm) S ...": the state follows the last ')', since comm may hold anything.
    const std::size_t close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'S') return true;
    std::this_thread::yield();
  }
  return false;
}

}  // namespace interleave::test_support
