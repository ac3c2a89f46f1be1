// The compiler's ThreadSanitizer instrumentation ABI (what -fsanitize=thread makes instrumented
// code call; `nm -u` of objects built by g++ 12 and clang 14): plain accesses go to the model's
// race detector by address, atomic operations through the atomic adapter, function entry and exit
// keep a shadow call stack per fiber for report sites. Outside an exploration each entry point
// just performs the operation.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "std/std_runtime.h"

namespace interleave::detail::std_runtime {
namespace {

constexpr std::size_t kMaxDepth = 256;  // deeper frames are not kept (recursion)

// Numbers the contents of this OS thread's shadow stacks: every change of a stack takes the next.
thread_local std::uint64_t stack_versions = 0;

// One fiber's shadow call stack. A type of its own: a std::vector<const void*> might be the
// instrumented copy of the test's code, whose hooks would re-enter these.
struct ShadowStack {
  const void* frames[kMaxDepth];
  std::size_t depth = 0;
  std::uint64_t version = 0;  // names the content (frames[0, depth)) for model::memory_access

  void set_depth(std::size_t d) noexcept {
    depth = d;
    version = ++stack_versions;
  }
};

// The shadow call stacks: per fiber of the execution running on this OS thread.
struct ShadowStacks {
  std::uint64_t execution = 0;
  std::vector<std::unique_ptr<ShadowStack>> by_fiber;
};

thread_local ShadowStacks stacks;
// Ignored accesses (__tsan_ignore_thread_begin/end), per OS thread. Apart from `stacks`, whose
// constructor makes every use of it a call (the thread-local's initialization check).
constinit thread_local int ignore_depth = 0;

// The running fiber's stack, looked up once per task (then kept in model::fiber_hook_data).
[[gnu::noinline]] ShadowStack& find_stack_of_current() {
  const std::uint64_t now = model::execution();
  if (stacks.execution != now) {
    for (auto& stack : stacks.by_fiber) {
      if (stack) stack->set_depth(0);
    }
    stacks.execution = now;
  }
  const std::uint32_t fiber = model::current_fiber();
  if (fiber >= stacks.by_fiber.size()) stacks.by_fiber.resize(fiber + 1);
  auto& stack = stacks.by_fiber[fiber];
  if (!stack) stack = std::make_unique<ShadowStack>();
  model::set_fiber_hook_data(stack.get());
  return *stack;
}

inline ShadowStack& stack_of_current() {
  if (void* data = model::get_fiber_hook_data(); data != nullptr) [[likely]] {
    return *static_cast<ShadowStack*>(data);
  }
  return find_stack_of_current();
}

[[gnu::always_inline]] inline void access(const void* address, std::size_t size, bool write, const void* pc) {
  if (!modelled() || ignore_depth > 0 || thread_private(address)) return;
  const HookScope hook;
  const ShadowStack& stack = stack_of_current();
  model::memory_access(address, size, write, pc, stack.frames, std::min(stack.depth, kMaxDepth), stack.version);
}

}  // namespace

interleave::source_location caller_location(const void* pc) noexcept {
  try {
    const ShadowStack& stack = stack_of_current();
    return model::code_location(pc, stack.frames, std::min(stack.depth, kMaxDepth), stack.version);
  } catch (...) {
    return model::code_location(pc);
  }
}

void check_range(const void* address, std::size_t size, bool write, const void* pc) {
  if (size != 0) access(address, size, write, pc);
}

void check_free(const void* block, std::size_t size, const void* pc) {
  if (ignore_depth > 0) return;
  const ShadowStack& stack = stack_of_current();
  model::memory_freed(block, size, pc, stack.frames, std::min(stack.depth, kMaxDepth), stack.version);
}

void reset_shadow_stack(std::uint32_t fiber) noexcept {
  if (model::execution() == stacks.execution && fiber < stacks.by_fiber.size() && stacks.by_fiber[fiber]) {
    stacks.by_fiber[fiber]->set_depth(0);
  }
}

}  // namespace interleave::detail::std_runtime

namespace rt = interleave::detail::std_runtime;
using rt::Rmw;

// The ABI's names are reserved identifiers, fixed by the compilers.
// NOLINTBEGIN(bugprone-reserved-identifier,readability-identifier-naming)
extern "C" {

void __tsan_init() {}

void __tsan_func_entry(void* pc) {
  if (!rt::modelled()) return;
  const rt::HookScope hook;
  rt::ShadowStack& stack = rt::stack_of_current();
  if (stack.depth < rt::kMaxDepth) stack.frames[stack.depth] = pc;
  stack.set_depth(stack.depth + 1);
}

void __tsan_func_exit() {
  if (!rt::modelled()) return;
  const rt::HookScope hook;
  rt::ShadowStack& stack = rt::stack_of_current();
  if (stack.depth > 0) stack.set_depth(stack.depth - 1);
}

void __tsan_ignore_thread_begin() { ++rt::ignore_depth; }
void __tsan_ignore_thread_end() {
  if (rt::ignore_depth > 0) --rt::ignore_depth;
}

#define INTERLEAVE_ACCESS(size)                                                                          \
  void __tsan_read##size(void* a) { rt::access(a, size, false, __builtin_return_address(0)); }           \
  void __tsan_write##size(void* a) { rt::access(a, size, true, __builtin_return_address(0)); }           \
  void __tsan_unaligned_read##size(void* a) { rt::access(a, size, false, __builtin_return_address(0)); } \
  void __tsan_unaligned_write##size(void* a) { rt::access(a, size, true, __builtin_return_address(0)); } \
  void __tsan_read##size##_pc(void* a, void* pc) { rt::access(a, size, false, pc); }                     \
  void __tsan_write##size##_pc(void* a, void* pc) { rt::access(a, size, true, pc); }                     \
  void __tsan_volatile_read##size(void* a) { rt::access(a, size, false, __builtin_return_address(0)); }  \
  void __tsan_volatile_write##size(void* a) { rt::access(a, size, true, __builtin_return_address(0)); }
INTERLEAVE_ACCESS(1)
INTERLEAVE_ACCESS(2)
INTERLEAVE_ACCESS(4)
INTERLEAVE_ACCESS(8)
INTERLEAVE_ACCESS(16)
#undef INTERLEAVE_ACCESS

void __tsan_read_range(void* a, unsigned long size) { rt::access(a, size, false, __builtin_return_address(0)); }
void __tsan_write_range(void* a, unsigned long size) { rt::access(a, size, true, __builtin_return_address(0)); }

// Virtual calls: the vtable pointer is written by constructors and destructors, and read by calls.
void __tsan_vptr_update(void** vptr, void* new_value) {
  if (*vptr != new_value) rt::access(vptr, sizeof(void*), true, __builtin_return_address(0));
}
void __tsan_vptr_read(void** vptr) { rt::access(vptr, sizeof(void*), false, __builtin_return_address(0)); }

// Atomics: <T> is the ABI's integer type of that size. T names a type, which cannot be put in
// parentheses where it declares a parameter.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define INTERLEAVE_ATOMIC(bits, T)                                                                                 \
  T __tsan_atomic##bits##_load(const volatile T* a, int mo) {                                                      \
    if (!rt::modelled()) return static_cast<T>(rt::plain_load(a, sizeof(T)));                                      \
    const rt::HookScope hook;                                                                                      \
    return static_cast<T>(rt::atomic_load(a, sizeof(T), rt::order_of(mo)));                                        \
  }                                                                                                                \
  void __tsan_atomic##bits##_store(volatile T* a, T v, int mo) {                                                   \
    if (!rt::modelled()) return rt::plain_store(a, sizeof(T), static_cast<std::uint64_t>(v));                      \
    const rt::HookScope hook;                                                                                      \
    rt::atomic_store(a, sizeof(T), static_cast<std::uint64_t>(v), rt::order_of(mo));                               \
  }                                                                                                                \
  static T rmw##bits(volatile T* a, Rmw op, T v, int mo) {                                                         \
    if (!rt::modelled()) return static_cast<T>(rt::plain_rmw(a, sizeof(T), op, static_cast<std::uint64_t>(v)));    \
    const rt::HookScope hook;                                                                                      \
    return static_cast<T>(rt::atomic_rmw(a, sizeof(T), op, static_cast<std::uint64_t>(v), rt::order_of(mo)));      \
  }                                                                                                                \
  T __tsan_atomic##bits##_exchange(volatile T* a, T v, int mo) { return rmw##bits(a, Rmw::exchange, v, mo); }      \
  T __tsan_atomic##bits##_fetch_add(volatile T* a, T v, int mo) { return rmw##bits(a, Rmw::add, v, mo); }          \
  T __tsan_atomic##bits##_fetch_sub(volatile T* a, T v, int mo) { return rmw##bits(a, Rmw::sub, v, mo); }          \
  T __tsan_atomic##bits##_fetch_and(volatile T* a, T v, int mo) { return rmw##bits(a, Rmw::bit_and, v, mo); }      \
  T __tsan_atomic##bits##_fetch_or(volatile T* a, T v, int mo) { return rmw##bits(a, Rmw::bit_or, v, mo); }        \
  T __tsan_atomic##bits##_fetch_xor(volatile T* a, T v, int mo) { return rmw##bits(a, Rmw::bit_xor, v, mo); }      \
  T __tsan_atomic##bits##_fetch_nand(volatile T* a, T v, int mo) { return rmw##bits(a, Rmw::nand, v, mo); }        \
  static bool cas##bits(volatile T* a, T* expected, T desired, int mo, int fail_mo, bool weak = false) {           \
    auto e = static_cast<std::uint64_t>(static_cast<std::make_unsigned_t<T>>(*expected));                          \
    const bool modelled = rt::modelled();                                                                          \
    const rt::HookScope hook;                                                                                      \
    const bool done = modelled ? rt::atomic_compare_exchange(a, sizeof(T), e, static_cast<std::uint64_t>(desired), \
                                                             rt::order_of(mo), rt::order_of(fail_mo), weak)        \
                               : rt::plain_compare_exchange(a, sizeof(T), e, static_cast<std::uint64_t>(desired)); \
    *expected = static_cast<T>(e);                                                                                 \
    return done;                                                                                                   \
  }                                                                                                                \
  int __tsan_atomic##bits##_compare_exchange_strong(volatile T* a, T* c, T v, int mo, int fail_mo) {               \
    return cas##bits(a, c, v, mo, fail_mo) ? 1 : 0;                                                                \
  }                                                                                                                \
  int __tsan_atomic##bits##_compare_exchange_weak(volatile T* a, T* c, T v, int mo, int fail_mo) {                 \
    return cas##bits(a, c, v, mo, fail_mo, true) ? 1 : 0;                                                          \
  }                                                                                                                \
  T __tsan_atomic##bits##_compare_exchange_val(volatile T* a, T c, T v, int mo, int fail_mo) {                     \
    cas##bits(a, &c, v, mo, fail_mo);                                                                              \
    return c;                                                                                                      \
  }
INTERLEAVE_ATOMIC(8, char)
INTERLEAVE_ATOMIC(16, short)
INTERLEAVE_ATOMIC(32, int)
INTERLEAVE_ATOMIC(64, long)
#undef INTERLEAVE_ATOMIC
// NOLINTEND(bugprone-macro-parentheses)

void __tsan_atomic_thread_fence(int mo) {
  if (!rt::modelled()) {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return;
  }
  const rt::HookScope hook;
  rt::atomic_fence(rt::order_of(mo));
}
void __tsan_atomic_signal_fence(int /*mo*/) { __atomic_signal_fence(__ATOMIC_SEQ_CST); }

}  // extern "C"
// NOLINTEND(bugprone-reserved-identifier,readability-identifier-naming)
