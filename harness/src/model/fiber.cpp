// Fibers: stacks, the x86-64 context switch and the sanitizer hand-offs (see fiber.h).
//
// The switch is a plain function call into a few instructions of assembly: push the
// callee-saved registers and the floating-point control words on the running stack, store the
// stack pointer in `from`, load `to`'s, pop its registers and return into it. A caller-saved
// register would already have been saved by the compiler around the call, so that is the whole
// state (the SysV ABI makes rbx, rbp, r12-r15, MXCSR's control bits and the x87 control word
// callee-saved). A fresh fiber's stack is prepared to look like one suspended in the switch,
// "returning" into a trampoline that calls the entry function.
//
// Sanitizers (ThreadSanitizer and AddressSanitizer are never combined):
//   TSan  __tsan_switch_to_fiber just before the switch; this file's bookkeeping (saved stack
//         pointers, the exception state, the initial frames) is not instrumented, so it cannot
//         show up as races between fibers or add happens-before edges.
//   ASan  __sanitizer_start_switch_fiber before and __sanitizer_finish_switch_fiber after the
//         switch (on the resumed side); the context we came from is handed over through the
//         switch (in rax) so its stack bounds, which only ASan knows for an OS thread, can be
//         recorded there. Functions that run across the switch take no local's address: under
//         detect_stack_use_after_return such a local would live on the fake stack, which
//         exit_fiber() destroys.
#include "interleave/detail/fiber.h"

#include <cxxabi.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include "interleave/contract.h"
#include "interleave/source_location.h"

#if INTERLEAVE_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#if INTERLEAVE_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if INTERLEAVE_TSAN
#define INTERLEAVE_NO_TSAN __attribute__((no_sanitize("thread")))
#else
#define INTERLEAVE_NO_TSAN
#endif

namespace interleave::detail {
class ExecutionContext;
class Fiber;
}  // namespace interleave::detail

extern "C" {
// Pushes the callee-saved state, stores the stack pointer in *save, switches to `target` (a
// stack pointer saved by this function, or a fresh fiber's initial frame) and returns there,
// with `handover` as the return value seen by the resumed side.
__attribute__((visibility("hidden"))) void* interleave_switch_stacks(void** save, void* target,
                                                                     void* handover) noexcept;
// The same without saving anything: for a context that never comes back.
[[noreturn]] __attribute__((visibility("hidden"))) void interleave_jump_stack(void* target, void* handover) noexcept;
// Where a fresh fiber's initial frame "returns" to; calls interleave_fiber_start.
__attribute__((visibility("hidden"))) void interleave_fiber_trampoline() noexcept;
[[noreturn]] __attribute__((used, visibility("hidden"))) void interleave_fiber_start(
    interleave::detail::ExecutionContext* previous, interleave::detail::Fiber* self) noexcept;
}

// Stack layout of a suspended context, from its saved stack pointer up:
//   +0 MXCSR (4 bytes), +4 x87 control word (2 bytes, 2 unused), +8 r15, +16 r14, +24 r13,
//   +32 r12, +40 rbx, +48 rbp, +56 return address. The CFI describes this frame so debuggers
//   and profilers can unwind through a switch in progress.
// The resumed context is entered with an indirect jump to its return address, not `ret`: a `ret`
// that does not go back to its own call mispredicts the return-stack buffer on every switch
// (measured on a busy 2-core development machine: about 17 ns per switch with `ret`, 10-11 ns
// with the jump, which is Boost.Context's method and matched its time there).
asm(R"(
        .text
        .p2align 4
        .globl  interleave_switch_stacks
        .hidden interleave_switch_stacks
        .type   interleave_switch_stacks, @function
interleave_switch_stacks:
        .cfi_startproc
        pushq   %rbp
        .cfi_def_cfa_offset 16
        .cfi_offset %rbp, -16
        pushq   %rbx
        .cfi_def_cfa_offset 24
        .cfi_offset %rbx, -24
        pushq   %r12
        .cfi_def_cfa_offset 32
        .cfi_offset %r12, -32
        pushq   %r13
        .cfi_def_cfa_offset 40
        .cfi_offset %r13, -40
        pushq   %r14
        .cfi_def_cfa_offset 48
        .cfi_offset %r14, -48
        pushq   %r15
        .cfi_def_cfa_offset 56
        .cfi_offset %r15, -56
        subq    $8, %rsp
        .cfi_def_cfa_offset 64
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        .cfi_def_cfa_offset 56
        popq    %r15
        .cfi_def_cfa_offset 48
        popq    %r14
        .cfi_def_cfa_offset 40
        popq    %r13
        .cfi_def_cfa_offset 32
        popq    %r12
        .cfi_def_cfa_offset 24
        popq    %rbx
        .cfi_def_cfa_offset 16
        popq    %rbp
        .cfi_def_cfa_offset 8
        popq    %rcx
        .cfi_def_cfa_offset 0
        .cfi_register %rip, %rcx
        movq    %rdx, %rax
        jmpq    *%rcx
        .cfi_endproc
        .size   interleave_switch_stacks, .-interleave_switch_stacks

        .p2align 4
        .globl  interleave_jump_stack
        .hidden interleave_jump_stack
        .type   interleave_jump_stack, @function
interleave_jump_stack:
        .cfi_startproc
        movq    %rdi, %rsp
        .cfi_def_cfa_offset 64
        .cfi_offset %rbp, -16
        .cfi_offset %rbx, -24
        .cfi_offset %r12, -32
        .cfi_offset %r13, -40
        .cfi_offset %r14, -48
        .cfi_offset %r15, -56
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        .cfi_def_cfa_offset 56
        popq    %r15
        .cfi_def_cfa_offset 48
        popq    %r14
        .cfi_def_cfa_offset 40
        popq    %r13
        .cfi_def_cfa_offset 32
        popq    %r12
        .cfi_def_cfa_offset 24
        popq    %rbx
        .cfi_def_cfa_offset 16
        popq    %rbp
        .cfi_def_cfa_offset 8
        popq    %rcx
        .cfi_def_cfa_offset 0
        .cfi_register %rip, %rcx
        movq    %rsi, %rax
        jmpq    *%rcx
        .cfi_endproc
        .size   interleave_jump_stack, .-interleave_jump_stack

        .p2align 4
        .globl  interleave_fiber_trampoline
        .hidden interleave_fiber_trampoline
        .type   interleave_fiber_trampoline, @function
interleave_fiber_trampoline:
        .cfi_startproc
        .cfi_undefined %rip
        movq    %rax, %rdi
        movq    %r12, %rsi
        call    interleave_fiber_start
        ud2
        .cfi_endproc
        .size   interleave_fiber_trampoline, .-interleave_fiber_trampoline
)");

namespace interleave::detail {
namespace {

// The C++ runtime's per-thread exception state, as laid out by libstdc++ and libc++abi
// (Itanium C++ ABI): the chain of caught exceptions and the std::uncaught_exceptions() count.
struct EhGlobals {
  void* caught_exceptions;
  unsigned int uncaught_exceptions;
};

// Cached per thread: __cxa_get_globals is a call into the shared C++ runtime.
thread_local EhGlobals* t_eh_globals = nullptr;

INTERLEAVE_NO_TSAN EhGlobals* eh_globals() noexcept {
  EhGlobals* globals = t_eh_globals;
  if (globals == nullptr) [[unlikely]] {
    globals = reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals());
    t_eh_globals = globals;
  }
  return globals;
}

std::size_t page_size() noexcept {
  static const std::size_t size = [] {
    const long value = sysconf(_SC_PAGESIZE);
    return value > 0 ? static_cast<std::size_t>(value) : std::size_t{4096};
  }();
  return size;
}

std::size_t round_up(std::size_t value, std::size_t multiple) noexcept {
  return (value + multiple - 1) / multiple * multiple;
}

[[noreturn]] void violation(const char* message, source_location where = source_location::current()) noexcept {
  report_contract_violation(message, where);
}

// ---- Guard-region registry: a fixed table of atomics, readable from a signal handler. ----

struct GuardSlot {
  std::atomic<const Fiber*> fiber{nullptr};
  std::atomic<std::uintptr_t> begin{0};
  std::atomic<std::uintptr_t> end{0};
};
static_assert(std::atomic<const Fiber*>::is_always_lock_free);
static_assert(std::atomic<std::uintptr_t>::is_always_lock_free);

GuardSlot g_guard_slots[kGuardRegistrySlots];     // zero-initialized: untouched pages cost nothing
std::atomic<std::size_t> g_guard_slots_used{0};   // every occupied slot is below this index
std::atomic<std::size_t> g_guard_search_from{0};  // a hint: slots below it were taken when last seen

void register_guard(const Fiber* fiber, std::uintptr_t begin, std::uintptr_t end) noexcept {
  // Starting at the hint keeps creating many fibers linear rather than quadratic; the second lap
  // finds slots freed below the hint by a race with unregister_guard.
  const std::size_t start = g_guard_search_from.load(std::memory_order_relaxed) % kGuardRegistrySlots;
  for (std::size_t n = 0; n < kGuardRegistrySlots; ++n) {
    const std::size_t i = (start + n) % kGuardRegistrySlots;
    GuardSlot& slot = g_guard_slots[i];
    const Fiber* expected = nullptr;
    if (slot.fiber.load(std::memory_order_relaxed) != nullptr ||
        !slot.fiber.compare_exchange_strong(expected, fiber, std::memory_order_acq_rel)) {
      continue;
    }
    slot.begin.store(begin, std::memory_order_release);
    slot.end.store(end, std::memory_order_release);
    std::size_t used = g_guard_slots_used.load(std::memory_order_relaxed);
    while (used < i + 1 && !g_guard_slots_used.compare_exchange_weak(used, i + 1, std::memory_order_acq_rel)) {
    }
    g_guard_search_from.store(i + 1, std::memory_order_relaxed);
    return;
  }
  // Table full: this fiber's overflow will be an ordinary SIGSEGV (documented in fiber.h).
}

void unregister_guard(const Fiber* fiber) noexcept {
  const std::size_t used = g_guard_slots_used.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < used; ++i) {
    GuardSlot& slot = g_guard_slots[i];
    if (slot.fiber.load(std::memory_order_relaxed) == fiber) {
      slot.end.store(0, std::memory_order_release);
      slot.begin.store(0, std::memory_order_release);
      slot.fiber.store(nullptr, std::memory_order_release);
      std::size_t from = g_guard_search_from.load(std::memory_order_relaxed);
      while (i < from && !g_guard_search_from.compare_exchange_weak(from, i, std::memory_order_relaxed)) {
      }
      return;
    }
  }
}

#if INTERLEAVE_ASAN
void retire_entry(void* request);
#endif

}  // namespace

// Everything that touches the saved state. Not instrumented by TSan (see the file comment).
struct ContextAccess {
  INTERLEAVE_NO_TSAN static void check_switch(const ExecutionContext& from, const ExecutionContext& to) noexcept {
    if (&from == &to) [[unlikely]] {
      violation("switch_fiber: `from` and `to` are the same context");
    }
    if (from.stack_pointer_ != nullptr) [[unlikely]] {
      violation("switch_fiber: `from` is suspended, not the running context");
    }
    if (to.stack_pointer_ == nullptr) [[unlikely]] {
      violation("switch_fiber: `to` cannot be resumed: it is running, has exited, or is a Fiber never reset()");
    }
  }

  INTERLEAVE_NO_TSAN static void switch_to(ExecutionContext& from, ExecutionContext& to, bool synchronizing) noexcept {
    check_switch(from, to);
    EhGlobals* eh = eh_globals();
    from.caught_exceptions_ = eh->caught_exceptions;
    from.uncaught_exceptions_ = eh->uncaught_exceptions;
    eh->caught_exceptions = to.caught_exceptions_;
    eh->uncaught_exceptions = to.uncaught_exceptions_;
    void* const target = to.stack_pointer_;
    to.stack_pointer_ = nullptr;  // running from now on
#if INTERLEAVE_TSAN
    __tsan_switch_to_fiber(to.tsan_fiber_, synchronizing ? 0u : __tsan_switch_to_fiber_no_sync);
#else
    (void)synchronizing;
#endif
#if INTERLEAVE_ASAN
    __sanitizer_start_switch_fiber(&from.asan_fake_stack_, to.asan_stack_bottom_, to.asan_stack_size_);
#endif
    void* const previous = interleave_switch_stacks(&from.stack_pointer_, target, &from);
    // Resumed: `from` is this context again; `previous` is the one that switched to it.
#if INTERLEAVE_ASAN
    finish_asan_switch(from, *static_cast<ExecutionContext*>(previous));
#else
    (void)previous;
#endif
  }

  [[noreturn]] INTERLEAVE_NO_TSAN static void exit_to(Fiber& from, ExecutionContext& to) noexcept {
    check_switch(from, to);
    EhGlobals* eh = eh_globals();
    eh->caught_exceptions = to.caught_exceptions_;
    eh->uncaught_exceptions = to.uncaught_exceptions_;
    from.caught_exceptions_ = nullptr;
    from.uncaught_exceptions_ = 0;
    void* const target = to.stack_pointer_;
    to.stack_pointer_ = nullptr;
#if INTERLEAVE_TSAN
    __tsan_switch_to_fiber(to.tsan_fiber_, 0);
#endif
#if INTERLEAVE_ASAN
    // nullptr: this fiber's run is over, ASan frees its fake stack.
    __sanitizer_start_switch_fiber(nullptr, to.asan_stack_bottom_, to.asan_stack_size_);
    from.asan_fake_stack_ = nullptr;
#endif
    interleave_jump_stack(target, &from);
  }

#if INTERLEAVE_ASAN
  static void finish_asan_switch(ExecutionContext& self, ExecutionContext& previous) noexcept {
    __sanitizer_finish_switch_fiber(self.asan_fake_stack_, &previous.asan_stack_bottom_, &previous.asan_stack_size_);
  }
#endif

  // First code run on a fresh fiber, called by the trampoline.
  [[noreturn]] INTERLEAVE_NO_TSAN static void start(ExecutionContext* previous, Fiber* self) noexcept {
#if INTERLEAVE_ASAN
    finish_asan_switch(*self, *previous);
#else
    (void)previous;
#endif
    self->has_run_ = true;
    self->entry_(self->argument_);
    violation("Fiber: the entry function returned; it must end by switching away for good (exit_fiber)");
  }

  static void initialize_fiber(Fiber& fiber) noexcept {
    fiber.asan_stack_bottom_ = fiber.stack_bottom();
    fiber.asan_stack_size_ = fiber.stack_size_;
#if INTERLEAVE_TSAN
    fiber.tsan_fiber_ = __tsan_create_fiber(0);
#endif
  }

#if INTERLEAVE_TSAN
  // Like joining a thread: what the (suspended or exited) fiber did happens before what the
  // caller does next. Two identity switches with flag 0 and nothing run in between.
  INTERLEAVE_NO_TSAN static void join_tsan_fiber(Fiber& fiber) noexcept {
    if (fiber.tsan_fiber_ == nullptr || !fiber.has_run_) return;
    void* const current = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(fiber.tsan_fiber_, 0);
    __tsan_switch_to_fiber(current, 0);
  }
#endif

  INTERLEAVE_NO_TSAN static void destroy_tsan_fiber(Fiber& fiber) noexcept {
#if INTERLEAVE_TSAN
    join_tsan_fiber(fiber);
    if (fiber.tsan_fiber_ != nullptr) __tsan_destroy_fiber(fiber.tsan_fiber_);
    fiber.tsan_fiber_ = nullptr;
#else
    (void)fiber;
#endif
  }

  static void name_tsan_fiber(Fiber& fiber) noexcept {
#if INTERLEAVE_TSAN
    if (fiber.tsan_fiber_ != nullptr) __tsan_set_fiber_name(fiber.tsan_fiber_, fiber.name_);
#else
    (void)fiber;
#endif
  }

  static void initialize_thread_context(ThreadContext& context) noexcept {
#if INTERLEAVE_TSAN
    context.tsan_fiber_ = __tsan_get_current_fiber();
#else
    (void)context;
#endif
  }

#if INTERLEAVE_ASAN
  // A context standing for whatever is running now, for one round trip into a fiber.
  struct CurrentContext final : ExecutionContext {};
  struct RetireRequest {
    Fiber* fiber;
    ExecutionContext* back;
  };

  // Runs the fiber once more so that it leaves for good and ASan frees its fake stack.
  static void retire_fake_stack(Fiber& fiber) {
    CurrentContext here;
    RetireRequest request{&fiber, &here};
    fiber.reset(&retire_entry, &request);
    switch_to(here, fiber, true);
  }

  static void retire(void* argument) noexcept {
    auto* request = static_cast<RetireRequest*>(argument);
    exit_to(*request->fiber, *request->back);
  }

  static bool has_fake_stack(const Fiber& fiber) noexcept { return fiber.asan_fake_stack_ != nullptr; }
#endif

  INTERLEAVE_NO_TSAN static void prepare(Fiber& fiber, Fiber::Entry entry, void* argument) {
#if INTERLEAVE_TSAN
    if (fiber.has_run_) renew_tsan_fiber(fiber);
#endif
#if INTERLEAVE_ASAN
    // Frames abandoned on this stack left their redzones poisoned.
    __asan_unpoison_memory_region(fiber.stack_bottom(), fiber.stack_size_);
#endif
    fiber.entry_ = entry;
    fiber.argument_ = argument;
    fiber.caught_exceptions_ = nullptr;
    fiber.uncaught_exceptions_ = 0;

    // The new run starts with the caller's floating-point control state, status flags cleared.
    std::uint32_t mxcsr = 0;
    std::uint16_t x87_control = 0;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    asm volatile("fnstcw %0" : "=m"(x87_control));
    mxcsr &= ~std::uint32_t{0x3f};

    // An initial frame shaped like a context suspended in interleave_switch_stacks (layout above),
    // 16 bytes below the top, so that the trampoline's call is made with rsp 16-byte aligned.
    unsigned char* const top = fiber.mapping_ + fiber.guard_size_ + fiber.stack_size_;
    auto* const frame = reinterpret_cast<std::uint64_t*>(top - 80);
    frame[0] = mxcsr | (std::uint64_t{x87_control} << 32);
    frame[1] = 0;                                         // r15
    frame[2] = 0;                                         // r14
    frame[3] = 0;                                         // r13
    frame[4] = reinterpret_cast<std::uintptr_t>(&fiber);  // r12: the trampoline's `self`
    frame[5] = 0;                                         // rbx
    frame[6] = 0;                                         // rbp: 0 ends frame-pointer walks
    frame[7] = reinterpret_cast<std::uintptr_t>(&interleave_fiber_trampoline);
    frame[8] = 0;
    frame[9] = 0;
    fiber.stack_pointer_ = frame;
  }

#if INTERLEAVE_TSAN
  // TSan keeps a fixed-size shadow call stack per fiber, and frames abandoned by a run that
  // never returned stay on it; so a fiber that has run gets a fresh TSan fiber. Remapping the
  // stack makes TSan forget the old fiber's accesses to it (they would otherwise look like
  // races with the new fiber's).
  INTERLEAVE_NO_TSAN static void renew_tsan_fiber(Fiber& fiber) {
    join_tsan_fiber(fiber);
    __tsan_destroy_fiber(fiber.tsan_fiber_);
    fiber.tsan_fiber_ = nullptr;
    void* const stack = fiber.mapping_ + fiber.guard_size_;
    if (mmap(stack, fiber.stack_size_, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE | MAP_STACK, -1, 0) == MAP_FAILED) {
      fiber.stack_pointer_ = nullptr;
      throw std::system_error(errno, std::generic_category(), "Fiber::reset: remapping the fiber's stack failed");
    }
    fiber.tsan_fiber_ = __tsan_create_fiber(0);
    if (fiber.name_[0] != '\0') __tsan_set_fiber_name(fiber.tsan_fiber_, fiber.name_);
    fiber.has_run_ = false;
  }
#endif
};

#if INTERLEAVE_ASAN
namespace {
void retire_entry(void* request) { ContextAccess::retire(request); }
}  // namespace
#endif

// ---- ThreadContext ----

ThreadContext::ThreadContext() noexcept { ContextAccess::initialize_thread_context(*this); }

ThreadContext& ThreadContext::current() noexcept {
  static thread_local ThreadContext context;
  return context;
}

// ---- Fiber ----

Fiber::Fiber(std::size_t stack_bytes) {
  if (stack_bytes < kMinStackBytes || stack_bytes > kMaxStackBytes) {
    throw std::invalid_argument("Fiber: stack size " + std::to_string(stack_bytes) +
                                " bytes is out of range; accepted: " + std::to_string(kMinStackBytes) +
                                " (16 KiB) to " + std::to_string(kMaxStackBytes) + " (1 GiB) bytes");
  }
  const std::size_t page = page_size();
  stack_size_ = round_up(stack_bytes, page);
  guard_size_ = round_up(kGuardBytes, page);
  const std::size_t total = guard_size_ + stack_size_;
  void* const mapping =
      mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (mapping == MAP_FAILED) {
    throw std::system_error(errno, std::generic_category(),
                            "Fiber: mapping a stack of " + std::to_string(total) + " bytes failed");
  }
  if (mprotect(mapping, guard_size_, PROT_NONE) != 0) {
    const int error = errno;
    munmap(mapping, total);
    throw std::system_error(error, std::generic_category(), "Fiber: protecting the stack's guard region failed");
  }
  mapping_ = static_cast<unsigned char*>(mapping);
  ContextAccess::initialize_fiber(*this);
  register_guard(this, reinterpret_cast<std::uintptr_t>(mapping_),
                 reinterpret_cast<std::uintptr_t>(mapping_) + guard_size_);
}

Fiber::~Fiber() {
#if INTERLEAVE_ASAN
  if (ContextAccess::has_fake_stack(*this)) ContextAccess::retire_fake_stack(*this);
#endif
  unregister_guard(this);
  ContextAccess::destroy_tsan_fiber(*this);
#if INTERLEAVE_ASAN
  __asan_unpoison_memory_region(stack_bottom(), stack_size_);
#endif
  munmap(mapping_, guard_size_ + stack_size_);
}

void Fiber::reset(Entry entry, void* argument) {
  if (entry == nullptr) throw std::invalid_argument("Fiber::reset: the entry function is null");
  ContextAccess::prepare(*this, entry, argument);
}

bool Fiber::guard_page_contains(const void* address) const noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  const auto begin = reinterpret_cast<std::uintptr_t>(mapping_);
  return a >= begin && a < begin + guard_size_;
}

void Fiber::set_name(const char* name) noexcept {
  if (name == nullptr) name = "";
  std::strncpy(name_, name, sizeof name_ - 1);
  name_[sizeof name_ - 1] = '\0';
  ContextAccess::name_tsan_fiber(*this);
}

// ---- Free functions ----

void switch_fiber(ExecutionContext& from, ExecutionContext& to, bool synchronizing) {
  ContextAccess::switch_to(from, to, synchronizing);
}

void exit_fiber(Fiber& from, ExecutionContext& to) { ContextAccess::exit_to(from, to); }

const Fiber* fiber_owning_guard_page(const void* address) noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  const std::size_t used = g_guard_slots_used.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < used && i < kGuardRegistrySlots; ++i) {
    const GuardSlot& slot = g_guard_slots[i];
    const std::uintptr_t end = slot.end.load(std::memory_order_acquire);
    const std::uintptr_t begin = slot.begin.load(std::memory_order_acquire);
    const Fiber* fiber = slot.fiber.load(std::memory_order_acquire);
    if (fiber != nullptr && a >= begin && a < end) return fiber;
  }
  return nullptr;
}

}  // namespace interleave::detail

extern "C" void interleave_fiber_start(interleave::detail::ExecutionContext* previous,
                                       interleave::detail::Fiber* self) noexcept {
  interleave::detail::ContextAccess::start(previous, self);
}
