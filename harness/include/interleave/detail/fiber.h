// Fibers: the execution contexts the model runtime switches between on one OS thread.
//
// Purpose   A Fiber is a stack plus a saved register set. The scheduler runs on the OS thread's
//           own stack (its ThreadContext) and hands control to fibers and back with
//           switch_fiber(); every model "thread" runs on a Fiber. Switching is a hand-written
//           x86-64 routine (no system call, no signal mask): about 40 times cheaper than
//           swapcontext (bench/fiber_benchmark.cpp; numbers in docs/benchmarks.md). Saving the
//           per-fiber exception state below is part of that cost.
// Requires  - Only x86-64 (SysV ABI) is implemented; other architectures stop at #error.
//           - A context is switched *from* only while it is the one running, and switched *to*
//             only while it is suspended (or, for a Fiber, freshly reset()). Violations that
//             would corrupt memory -- switching to a running context, to an exited or never reset
//             fiber, or to oneself -- stop the program with a contract-violation message.
//           - A fiber is used on one OS thread; it must not be destroyed or reset() while it is
//             running, and a Fiber's entry function must never return (it ends by switching
//             away for good, best with exit_fiber()). A returning entry stops the program.
// Guarantees
//   - Saves and restores the callee-saved registers (rbx, rbp, r12-r15), the stack pointer, the
//     SSE control/status word (MXCSR) and the x87 control word; a fresh fiber starts with the
//     MXCSR and x87 control word of the thread that called reset().
//   - Per-fiber C++ exception state: the thread's "caught exceptions" chain and
//     std::uncaught_exceptions() count are saved and restored with each switch, so fibers may
//     switch inside catch blocks and during stack unwinding (which a scheduling point in a
//     destructor does) without corrupting each other's exceptions.
//   - Stacks are mmap'd with a PROT_NONE guard region (kGuardBytes, at least one page) below
//     them: an overflow faults instead of corrupting memory, and fiber_owning_guard_page() lets
//     a SIGSEGV handler on an alternate signal stack say which fiber overflowed.
//   - ThreadSanitizer (detected at compile time): one TSan fiber per Fiber, kept for the Fiber's
//     life; ordinary switches are not happens-before edges (__tsan_switch_to_fiber_no_sync), so
//     races between fibers are reported; `synchronizing` switches and exit_fiber() are.
//     Destroying or reset() of a fiber that has run is one too, from the fiber to the caller
//     (like joining a thread), and reset() makes TSan forget earlier accesses to the stack.
//   - AddressSanitizer: every switch tells ASan the new stack bounds and saves/restores the
//     per-fiber fake stack, so there are no false stack reports and
//     detect_stack_use_after_return works on fibers.
// Not saved  errno, the signal mask and other thread-local state are the OS thread's and shared
//            by all its fibers.
#pragma once

#include <cstddef>

#if !defined(__x86_64__)
#error "interleave fibers: only x86-64 has a context switch so far (see harness/src/model/fiber.cpp)"
#endif

#include "interleave/detail/sanitizers.h"  // INTERLEAVE_TSAN, INTERLEAVE_ASAN

#if INTERLEAVE_TSAN
// Exported by both the GCC and the LLVM TSan runtimes, but not declared in their headers.
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif

namespace interleave::detail {

struct ContextAccess;  // fiber.cpp's access to the saved state

// What switch_fiber() saves and restores: a Fiber, or an OS thread's own stack (ThreadContext).
class ExecutionContext {
 public:
  ExecutionContext(const ExecutionContext&) = delete;
  ExecutionContext& operator=(const ExecutionContext&) = delete;

  // True while this context is suspended and may be switched to.
  [[nodiscard]] bool resumable() const noexcept { return stack_pointer_ != nullptr; }

 protected:
  ExecutionContext() noexcept = default;
  ~ExecutionContext() = default;

 private:
  friend struct ContextAccess;

  void* stack_pointer_ = nullptr;    // saved by the switch; nullptr while running (or exited)
  void* tsan_fiber_ = nullptr;       // TSan's fiber handle (TSan builds)
  void* asan_fake_stack_ = nullptr;  // ASan's fake stack, saved while suspended (ASan builds)
  const void* asan_stack_bottom_ = nullptr;
  std::size_t asan_stack_size_ = 0;
  void* caught_exceptions_ = nullptr;  // the C++ runtime's per-thread exception state
  unsigned int uncaught_exceptions_ = 0;
};

// The context of an OS thread's own stack, so fibers can switch back to the thread.
class ThreadContext final : public ExecutionContext {
 public:
  // The calling OS thread's context, created on first use. Call it first on the thread's own
  // stack (not on a fiber): under TSan it captures the thread's TSan identity.
  static ThreadContext& current() noexcept;

 private:
  ThreadContext() noexcept;
  ~ThreadContext() = default;
};

class Fiber final : public ExecutionContext {
 public:
  using Entry = void (*)(void* argument);

  // Accepted stack sizes (before rounding up to whole pages).
  static constexpr std::size_t kMinStackBytes = std::size_t{16} * 1024;
  static constexpr std::size_t kMaxStackBytes = std::size_t{1} << 30;
  // Size of the inaccessible guard region below each stack (rounded up to whole pages). Stacks are
  // separate mappings, but the kernel places them side by side: below one stack's guard lies the
  // top of another fiber's stack. A function whose frame overshoots the stack by less than this
  // lands in the guard whatever it was compiled with. Code built with -fstack-clash-protection
  // (the harness, and every target that links interleave::harness: it is a public compile option
  // of that target) touches each page as its frame grows, so any frame size is caught; code
  // built without it (a prebuilt library) is caught for frames up to this size, and a larger
  // frame may skip the guard and write into the neighbouring stack unnoticed. Costs address space
  // only (never touched, never committed).
  static constexpr std::size_t kGuardBytes = std::size_t{256} * 1024;

  // A fiber with its own mmap'd stack of at least `stack_bytes` (rounded up to pages) and a
  // PROT_NONE guard region below it. Not runnable until reset().
  // Throws std::invalid_argument unless kMinStackBytes <= stack_bytes <= kMaxStackBytes, and
  // std::system_error if the stack cannot be mapped.
  explicit Fiber(std::size_t stack_bytes);
  ~Fiber();

  // Makes the next switch into this fiber call entry(argument) at the top of its stack.
  // `entry` must never return: it ends by switching away for good (exit_fiber() or a last
  // switch_fiber()); a fiber whose entry returns stops the program with a message. The usual
  // pattern is a pool: reset each fiber once with an entry that loops over tasks, switching to
  // the scheduler between them. Resetting a suspended fiber abandons its stack without running
  // the destructors on it. Throws std::invalid_argument if `entry` is null.
  // Cost: two stores normally; under TSan a fiber that has run before gets a fresh TSan fiber
  // and a remapped stack here (a few hundred microseconds with GCC), which the pool avoids.
  void reset(Entry entry, void* argument);

  // True when `address` lies in this fiber's guard region.
  [[nodiscard]] bool guard_page_contains(const void* address) const noexcept;
  [[nodiscard]] const void* guard_page() const noexcept { return mapping_; }
  [[nodiscard]] std::size_t guard_size() const noexcept { return guard_size_; }
  // The usable stack: [stack_bottom(), stack_bottom() + stack_size()), growing down from the top.
  [[nodiscard]] const void* stack_bottom() const noexcept { return mapping_ + guard_size_; }
  [[nodiscard]] std::size_t stack_size() const noexcept { return stack_size_; }

  // Names the fiber in ThreadSanitizer reports (copied, at most 31 bytes); no effect without TSan.
  void set_name(const char* name) noexcept;

 private:
  friend struct ContextAccess;

  unsigned char* mapping_ = nullptr;  // guard region, then the stack
  std::size_t guard_size_ = 0;
  std::size_t stack_size_ = 0;
  Entry entry_ = nullptr;
  void* argument_ = nullptr;
  bool has_run_ = false;  // started since its TSan fiber was created
  char name_[32] = {};    // kept to rename a renewed TSan fiber
};

// Saves the running context into `from` and resumes `to`; returns when something switches back
// to `from`. `synchronizing` picks the ThreadSanitizer flavour: false for ordinary scheduling
// switches (TSan sees no happens-before edge), true where one is wanted: when a fiber starts a
// new task and when it finishes one. No effect on ordering without TSan.
void switch_fiber(ExecutionContext& from, ExecutionContext& to, bool synchronizing);

// The last switch of a fiber's run: resumes `to` (a synchronizing switch) and never comes back;
// `from` can run again only after reset(). Under ASan it also releases the fiber's fake stack.
[[noreturn]] void exit_fiber(Fiber& from, ExecutionContext& to);

// The live Fiber whose guard region contains `address`, or nullptr. Async-signal-safe: meant for
// a SIGSEGV handler running on an alternate signal stack. Covers the first kGuardRegistrySlots
// fibers alive at once in the process (more than Linux's default vm.max_map_count of 65530
// mappings lets exist: each fiber is two); overflows of fibers beyond that are not recognised.
inline constexpr std::size_t kGuardRegistrySlots = 65536;
[[nodiscard]] const Fiber* fiber_owning_guard_page(const void* address) noexcept;

// __tsan_ignore_thread_begin/end: TSan ignores the calling fiber's memory accesses and
// synchronization in between (per TSan fiber; they nest). No-ops without TSan. The scheduler
// wraps its own bookkeeping in them.
inline void tsan_ignore_begin() noexcept {
#if INTERLEAVE_TSAN
  __tsan_ignore_thread_begin();
#endif
}
inline void tsan_ignore_end() noexcept {
#if INTERLEAVE_TSAN
  __tsan_ignore_thread_end();
#endif
}

}  // namespace interleave::detail
