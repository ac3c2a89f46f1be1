// NativePlatform: std::atomic, Linux futexes, the steady clock and OS threads.
// NativeSharedPlatform: the same, with process-shared futexes for objects placed in memory shared
// between processes (see shared_memory.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <thread>

#include "interleave/contract.h"
#include "interleave/detail/cell.h"
#include "interleave/platform.h"
#include "interleave/source_location.h"

namespace interleave {

namespace detail {
// Thin wrappers over futex(2). `deadline_ns` is CLOCK_MONOTONIC nanoseconds (steady_clock on
// Linux); a negative value means no deadline. Return false only when the deadline passed.
bool futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected, std::int64_t deadline_ns,
                bool process_shared) noexcept;
void futex_wake(const std::atomic<std::uint32_t>& word, int count, bool process_shared) noexcept;
std::uint32_t current_thread_id() noexcept;
// Names the calling OS thread (its first 15 bytes: what debuggers, top and ThreadSanitizer's
// reports show).
void name_native_thread(std::string_view name) noexcept;

template <bool Shared>
struct NativePlatformBase {
  template <class T>
  using Atomic = std::atomic<T>;
  // Non-atomic shared storage: a plain T (see detail/cell.h).
  template <class T>
  using Cell = PlainCell<T>;
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  static constexpr bool process_shared = Shared;
  static constexpr int spin_limit = 100;

  static TimePoint now() noexcept { return Clock::now(); }

  static void wait(const Atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
    futex_wait(word, expected, -1, Shared);
  }
  static bool wait_until(const Atomic<std::uint32_t>& word, std::uint32_t expected, TimePoint deadline) noexcept {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    return futex_wait(word, expected, ns < 0 ? 0 : ns, Shared);
  }
  static void wake_one(const Atomic<std::uint32_t>& word) noexcept { futex_wake(word, 1, Shared); }
  static void wake(const Atomic<std::uint32_t>& word, std::uint32_t count) noexcept {
    futex_wake(word, count > 0x7fffffffU ? 0x7fffffff : static_cast<int>(count), Shared);
  }
  static void wake_all(const Atomic<std::uint32_t>& word) noexcept { futex_wake(word, 0x7fffffff, Shared); }

  static void fence(std::memory_order order) noexcept { std::atomic_thread_fence(order); }
  static void yield() noexcept;
  static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  using Thread = std::thread;
  static void name_thread(std::string_view name) noexcept { name_native_thread(name); }

  static std::uint32_t this_thread_id() noexcept { return current_thread_id(); }

  [[noreturn]] static void contract_violation(std::string_view message, interleave::source_location where) noexcept {
    report_contract_violation(message, where);
  }

  // Free on real threads: the model runtime uses it to name the operation a thread is blocked in.
  struct Operation {
    constexpr Operation(const char*, const void*, interleave::source_location) noexcept {}
  };
};

void native_yield() noexcept;
template <bool Shared>
void NativePlatformBase<Shared>::yield() noexcept {
  native_yield();
}
}  // namespace detail

struct NativePlatform : detail::NativePlatformBase<false> {};
struct NativeSharedPlatform : detail::NativePlatformBase<true> {};

static_assert(Platform<NativePlatform>);
static_assert(Platform<NativeSharedPlatform>);

}  // namespace interleave
