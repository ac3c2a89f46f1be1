// 16-byte atomics of instrumented code (__tsan_atomic128_*: std::atomic of a 16-byte trivially
// copyable type, which the compilers make lock-free on x86-64 with cmpxchg16b). Each operation is
// one scheduling point with its memory order's happens-before effects, as the smaller atomics'
// are, and then runs on the object itself: it reads the newest value. The weak memory model's
// older values are not offered for these objects (its store histories hold 8 bytes); docs/std.md.
// This file is compiled with -mcx16, so that the operations below are cmpxchg16b, not libatomic.
#include <cstdint>

#include "std/std_runtime.h"

__extension__ typedef __int128 Int128;  // the ABI's __tsan_atomic128

namespace rt = interleave::detail::std_runtime;
namespace model = interleave::detail::model;

namespace {

// The ABI's 16-byte integer (a GNU extension: __extension__ keeps -Wpedantic quiet about it).
__extension__ typedef unsigned __int128 Wide;

Wide cas(volatile Wide* a, Wide expected, Wide desired) noexcept {
  return __sync_val_compare_and_swap(a, expected, desired);
}
Wide load(const volatile Wide* a) noexcept { return cas(const_cast<volatile Wide*>(a), 0, 0); }

// Replaces the value by update(value); returns the value replaced.
template <class Update>
Wide update(volatile Wide* a, Update update) noexcept {
  Wide old = load(a);
  for (;;) {
    const Wide seen = cas(a, old, update(old));
    if (seen == old) return old;
    old = seen;
  }
}

// A scheduling point before an operation of kind `op`, when the caller is the test's code in an
// exploration.
void point(const volatile void* a, const char* what, model::AtomicOp op, int mo) {
  if (!rt::modelled()) return;
  const rt::HookScope hook;
  rt::wide_atomic_step(a, what, op, rt::order_of(mo));
}

bool compare_exchange(volatile Wide* a, Wide* expected, Wide desired, int mo, int fail_mo) {
  const bool modelled = rt::modelled();
  if (modelled) {
    const rt::HookScope hook;
    rt::wide_atomic_step(a, "atomic compare_exchange", model::AtomicOp::load, std::memory_order_relaxed);
  }
  const Wide seen = cas(a, *expected, desired);
  const bool done = seen == *expected;
  *expected = seen;
  if (modelled) {
    const rt::HookScope hook;
    rt::wide_atomic_effects(a, done ? model::AtomicOp::rmw : model::AtomicOp::load, rt::order_of(done ? mo : fail_mo));
  }
  return done;
}

}  // namespace

// The ABI's names are reserved identifiers, fixed by the compilers.
// NOLINTBEGIN(bugprone-reserved-identifier,readability-identifier-naming)
extern "C" {

Int128 __tsan_atomic128_load(const volatile Int128* a, int mo) {
  point(a, "atomic load", model::AtomicOp::load, mo);
  return static_cast<Int128>(load(reinterpret_cast<const volatile Wide*>(a)));
}

void __tsan_atomic128_store(volatile Int128* a, Int128 v, int mo) {
  point(a, "atomic store", model::AtomicOp::store, mo);
  update(reinterpret_cast<volatile Wide*>(a), [v](Wide) { return static_cast<Wide>(v); });
}

#define INTERLEAVE_ATOMIC128_RMW(name, expression)                                                                 \
  Int128 __tsan_atomic128_##name(volatile Int128* a, Int128 v, int mo) {                                           \
    point(a, "atomic " #name, model::AtomicOp::rmw, mo);                                                           \
    const auto operand = static_cast<Wide>(v);                                                                     \
    return static_cast<Int128>(                                                                                    \
        update(reinterpret_cast<volatile Wide*>(a), [operand]([[maybe_unused]] Wide old) { return expression; })); \
  }
INTERLEAVE_ATOMIC128_RMW(exchange, operand)
INTERLEAVE_ATOMIC128_RMW(fetch_add, old + operand)
INTERLEAVE_ATOMIC128_RMW(fetch_sub, old - operand)
INTERLEAVE_ATOMIC128_RMW(fetch_and, (old & operand))
INTERLEAVE_ATOMIC128_RMW(fetch_or, old | operand)
INTERLEAVE_ATOMIC128_RMW(fetch_xor, old ^ operand)
INTERLEAVE_ATOMIC128_RMW(fetch_nand, ~old | ~operand)  // ~(old & operand)
#undef INTERLEAVE_ATOMIC128_RMW

int __tsan_atomic128_compare_exchange_strong(volatile Int128* a, Int128* c, Int128 v, int mo, int fail_mo) {
  auto expected = static_cast<Wide>(*c);
  const bool done = compare_exchange(reinterpret_cast<volatile Wide*>(a), &expected, static_cast<Wide>(v), mo, fail_mo);
  *c = static_cast<Int128>(expected);
  return done ? 1 : 0;
}

int __tsan_atomic128_compare_exchange_weak(volatile Int128* a, Int128* c, Int128 v, int mo, int fail_mo) {
  return __tsan_atomic128_compare_exchange_strong(a, c, v, mo, fail_mo);
}

Int128 __tsan_atomic128_compare_exchange_val(volatile Int128* a, Int128 c, Int128 v, int mo, int fail_mo) {
  __tsan_atomic128_compare_exchange_strong(a, &c, v, mo, fail_mo);
  return c;
}

}  // extern "C"
// NOLINTEND(bugprone-reserved-identifier,readability-identifier-naming)
