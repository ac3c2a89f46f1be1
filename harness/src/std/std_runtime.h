// Internal to interleave::std_runtime: what its hooks share. The runtime takes the place of
// ThreadSanitizer's for code compiled with -fsanitize=thread (compile line only), and routes that
// code's memory accesses, atomic operations, threads, locks, condition variables and clocks to
// the model when they are made on one of an exploration's fibers. Elsewhere every hook performs
// the plain operation (or the C library's own function), so the same program also runs normally.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>

#include "interleave/detail/model_runtime.h"
#include "interleave/source_location.h"

namespace interleave::detail::std_runtime {

// True when a hook is to be modelled: the caller runs on a fiber of an exploration, in the test's
// code (not in the model runtime's own, which may call instrumented inline functions).
inline bool modelled() noexcept { return !model::in_runtime() && model::active(); }

// Marks a hook's own code as the runtime's (model::in_runtime()) while it runs: it may call inline
// functions that the linker took from an instrumented object (std::min, std::vector's members),
// whose hooks must not re-enter it. Kept per fiber across the hook's scheduling points.
struct HookScope {
  HookScope() noexcept { model::set_runtime_depth(model::get_runtime_depth() + 1); }
  ~HookScope() { model::set_runtime_depth(model::get_runtime_depth() - 1); }
  HookScope(const HookScope&) = delete;
  HookScope& operator=(const HookScope&) = delete;
};

// --- The atomic adapter (atomics.cpp): the only code that calls the model's atomic entry points.
// Values travel as 64-bit integers (the low `size` bytes); `size` is 1, 2, 4 or 8. Each is one
// scheduling point, then the operation with the happens-before effects of `order`; a load may
// read an older store under the weak memory model.
enum class Rmw : std::uint8_t { exchange, add, sub, bit_and, bit_or, bit_xor, nand };
std::uint64_t atomic_load(const volatile void* address, unsigned size, std::memory_order order);
void atomic_store(volatile void* address, unsigned size, std::uint64_t value, std::memory_order order);
std::uint64_t atomic_rmw(volatile void* address, unsigned size, Rmw op, std::uint64_t operand, std::memory_order order);
// On failure `expected` receives the value read.
bool atomic_compare_exchange(volatile void* address, unsigned size, std::uint64_t& expected, std::uint64_t desired,
                             std::memory_order success, std::memory_order failure, bool weak = false);
void atomic_fence(std::memory_order order);
// The happens-before effects of a load or store of `order` on the object at `address`, without a
// scheduling point, for a state change made in place by the caller (a once control's "done"): an
// uncontended one-time initialization then costs the schedule no steps, so that the schedules of
// the runs before and after it (statics are initialized once per process) stay alike.
void atomic_effects(const volatile void* address, bool store, std::memory_order order) noexcept;
// 16-byte atomics (atomics128.cpp), which the model's store histories (8 bytes) do not hold: one
// scheduling point for the operation `what` on `address`, with the happens-before effects of
// `op` and `order`, after which the caller performs the operation itself (reading the newest
// value). For a compare-exchange, whose kind is known only after it ran, the point is a relaxed
// load and wide_atomic_effects adds the outcome's effects.
void wide_atomic_step(const volatile void* address, const char* what, model::AtomicOp op, std::memory_order order);
void wide_atomic_effects(const volatile void* address, model::AtomicOp op, std::memory_order order) noexcept;
// Futex wait/wake on a 4-byte word that the adapter's operations access: false on timeout
// (deadline_ns: virtual nanoseconds, < 0 for none). The wake returns how many waiters it woke.
bool futex_wait(const std::uint32_t* word, std::uint32_t expected, std::int64_t deadline_ns);
std::uint32_t futex_wake(const std::uint32_t* word, std::uint32_t count);

// The non-atomic fallbacks, outside an exploration.
std::uint64_t plain_load(const volatile void* address, unsigned size) noexcept;
void plain_store(volatile void* address, unsigned size, std::uint64_t value) noexcept;
std::uint64_t plain_rmw(volatile void* address, unsigned size, Rmw op, std::uint64_t operand) noexcept;
bool plain_compare_exchange(volatile void* address, unsigned size, std::uint64_t& expected,
                            std::uint64_t desired) noexcept;

// --- The shadow call stack (instrumentation.cpp), per fiber.
// The user's code site for a hook called from `pc`: the innermost frame outside system headers
// (looked up when a report is written).
interleave::source_location caller_location(const void* pc) noexcept;
// free() of `block` (`size` usable bytes) called from `pc`: checked as a write (memory.cpp).
void check_free(const void* block, std::size_t size, const void* pc);
// A plain access of [address, address + size) by the test's code, made at `pc` outside the
// compiler's instrumentation (memcpy, memmove, memset: byte_copies.cpp); as the compiler's hooks.
void check_range(const void* address, std::size_t size, bool write, const void* pc);
// A fiber starts (or ends) with an empty shadow stack.
void reset_shadow_stack(std::uint32_t fiber) noexcept;

// --- Thread-private storage (thread_locals.cpp): the test's thread_local variables and errno are
// switched with the running fiber, so the same address is a different variable in each model
// thread. True for an access to those bytes, which the race detector leaves alone.
struct PrivateBytes {  // the calling OS thread's, found once per thread: its TLS block and errno
  bool known = false;
  const unsigned char* block = nullptr;
  std::size_t block_size = 0;
  const void* error_number = nullptr;
  // libstdc++'s std::call_once hand-over variables (its own thread_locals, shared by the fibers of
  // one OS thread): pthread_once keeps them per call (once.cpp), so their accesses are no races.
  const void* once_callable = nullptr;
  const void* once_call = nullptr;
};
extern constinit thread_local PrivateBytes t_private;
bool thread_private_slow(const void* address) noexcept;  // finds t_private, looks through the ranges
inline bool thread_private(const void* address) noexcept {
  const PrivateBytes& p = t_private;
  if (!p.known) [[unlikely]]
    return thread_private_slow(address);
  if (address == p.error_number || address == p.once_callable || address == p.once_call) return true;
  const auto* byte = static_cast<const unsigned char*>(address);
  if (p.block == nullptr || byte < p.block || byte >= p.block + p.block_size) return false;
  return thread_private_slow(address);
}

// --- Virtual time (time.cpp): clock readings inside an exploration start at a fixed epoch.
std::int64_t clock_base_ns(clockid_t clock) noexcept;
inline std::int64_t to_ns(const timespec& t) noexcept {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}
// `abstime` on `clock` as a model deadline (virtual ns since the execution's start).
inline std::int64_t deadline_of(clockid_t clock, const timespec& abstime) noexcept {
  const std::int64_t d = to_ns(abstime) - clock_base_ns(clock);
  return d < 0 ? 0 : d;
}

// Converts the instrumentation ABI's memory order (0 relaxed ... 5 seq_cst, as std::memory_order).
inline std::memory_order order_of(int mo) noexcept {
  switch (mo & 0xffff) {
    case 0:
      return std::memory_order_relaxed;
    case 1:
      return std::memory_order_consume;
    case 2:
      return std::memory_order_acquire;
    case 3:
      return std::memory_order_release;
    case 4:
      return std::memory_order_acq_rel;
    default:
      return std::memory_order_seq_cst;
  }
}

}  // namespace interleave::detail::std_runtime
