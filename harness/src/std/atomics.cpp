// The atomic adapter: every call from interleave::std_runtime into the model's atomic entry
// points is here. They are the memory model's operations by address (atomic_read, atomic_write,
// atomic_rmw, atomic_compare_exchange), so std::atomic code gets the weak memory model too when
// the exploration runs under it.
#include <absl/container/node_hash_map.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "std/std_runtime.h"

namespace interleave::detail::std_runtime {
namespace {

// The race detector's handle of each atomic object, by address. Per OS thread (one exploration
// runs per thread), dropped when a new execution starts. A node map: a handle's address stays
// valid until then, so that a small per-thread cache can hold it.
struct Shadows {
  std::uint64_t execution = 0;
  absl::node_hash_map<const volatile void*, model::AtomicShadow> by_address;
};

struct CachedShadow {
  const volatile void* address = nullptr;
  std::uint64_t execution = 0;  // executions are numbered from 1 across all threads
  model::AtomicShadow* shadow = nullptr;
};
constexpr std::size_t kCachedShadows = 64;
constinit thread_local std::array<CachedShadow, kCachedShadows> cached_shadows{};

// shadow_of past the cache: finds (or makes) the handle and caches it.
[[gnu::noinline]] model::AtomicShadow& find_shadow(const volatile void* address, CachedShadow& cached,
                                                   std::uint64_t now) {
  thread_local Shadows shadows;
  if (shadows.execution != now) {
    shadows.by_address.clear();
    shadows.execution = now;
  }
  model::AtomicShadow& shadow = shadows.by_address[address];
  cached = CachedShadow{address, now, &shadow};
  return shadow;
}

inline model::AtomicShadow& shadow_of(const volatile void* address) {
  const std::uint64_t now = model::execution();
  CachedShadow& cached = cached_shadows[(reinterpret_cast<std::uintptr_t>(address) / 4) % kCachedShadows];
  if (cached.address == address && cached.execution == now) [[likely]] {
    return *cached.shadow;
  }
  return find_shadow(address, cached, now);
}

const char* rmw_name(Rmw op) noexcept {
  switch (op) {
    case Rmw::exchange:
      return "atomic exchange";
    case Rmw::add:
      return "atomic fetch_add";
    case Rmw::sub:
      return "atomic fetch_sub";
    case Rmw::bit_and:
      return "atomic fetch_and";
    case Rmw::bit_or:
      return "atomic fetch_or";
    case Rmw::bit_xor:
      return "atomic fetch_xor";
    case Rmw::nand:
      return "atomic fetch_nand";
  }
  return "atomic rmw";
}

template <class T>
std::uint64_t rmw_as(volatile void* address, Rmw op, std::uint64_t operand) noexcept {
  auto* p = static_cast<volatile T*>(address);
  const T v = static_cast<T>(operand);
  switch (op) {
    case Rmw::exchange:
      return static_cast<std::uint64_t>(__atomic_exchange_n(p, v, __ATOMIC_SEQ_CST));
    case Rmw::add:
      return static_cast<std::uint64_t>(__atomic_fetch_add(p, v, __ATOMIC_SEQ_CST));
    case Rmw::sub:
      return static_cast<std::uint64_t>(__atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST));
    case Rmw::bit_and:
      return static_cast<std::uint64_t>(__atomic_fetch_and(p, v, __ATOMIC_SEQ_CST));
    case Rmw::bit_or:
      return static_cast<std::uint64_t>(__atomic_fetch_or(p, v, __ATOMIC_SEQ_CST));
    case Rmw::bit_xor:
      return static_cast<std::uint64_t>(__atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST));
    case Rmw::nand:
      return static_cast<std::uint64_t>(__atomic_fetch_nand(p, v, __ATOMIC_SEQ_CST));
  }
  return 0;
}

template <class T>
bool compare_exchange_as(volatile void* address, std::uint64_t& expected, std::uint64_t desired) noexcept {
  T e = static_cast<T>(expected);
  const bool done = __atomic_compare_exchange_n(static_cast<volatile T*>(address), &e, static_cast<T>(desired), false,
                                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  expected = static_cast<std::uint64_t>(e);
  return done;
}

}  // namespace

std::uint64_t plain_load(const volatile void* address, unsigned size) noexcept {
  switch (size) {
    case 1:
      return __atomic_load_n(static_cast<const volatile std::uint8_t*>(address), __ATOMIC_SEQ_CST);
    case 2:
      return __atomic_load_n(static_cast<const volatile std::uint16_t*>(address), __ATOMIC_SEQ_CST);
    case 4:
      return __atomic_load_n(static_cast<const volatile std::uint32_t*>(address), __ATOMIC_SEQ_CST);
    default:
      return __atomic_load_n(static_cast<const volatile std::uint64_t*>(address), __ATOMIC_SEQ_CST);
  }
}

void plain_store(volatile void* address, unsigned size, std::uint64_t value) noexcept {
  switch (size) {
    case 1:
      __atomic_store_n(static_cast<volatile std::uint8_t*>(address), static_cast<std::uint8_t>(value),
                       __ATOMIC_SEQ_CST);
      break;
    case 2:
      __atomic_store_n(static_cast<volatile std::uint16_t*>(address), static_cast<std::uint16_t>(value),
                       __ATOMIC_SEQ_CST);
      break;
    case 4:
      __atomic_store_n(static_cast<volatile std::uint32_t*>(address), static_cast<std::uint32_t>(value),
                       __ATOMIC_SEQ_CST);
      break;
    default:
      __atomic_store_n(static_cast<volatile std::uint64_t*>(address), value, __ATOMIC_SEQ_CST);
      break;
  }
}

std::uint64_t plain_rmw(volatile void* address, unsigned size, Rmw op, std::uint64_t operand) noexcept {
  switch (size) {
    case 1:
      return rmw_as<std::uint8_t>(address, op, operand);
    case 2:
      return rmw_as<std::uint16_t>(address, op, operand);
    case 4:
      return rmw_as<std::uint32_t>(address, op, operand);
    default:
      return rmw_as<std::uint64_t>(address, op, operand);
  }
}

bool plain_compare_exchange(volatile void* address, unsigned size, std::uint64_t& expected,
                            std::uint64_t desired) noexcept {
  switch (size) {
    case 1:
      return compare_exchange_as<std::uint8_t>(address, expected, desired);
    case 2:
      return compare_exchange_as<std::uint16_t>(address, expected, desired);
    case 4:
      return compare_exchange_as<std::uint32_t>(address, expected, desired);
    default:
      return compare_exchange_as<std::uint64_t>(address, expected, desired);
  }
}

std::uint64_t atomic_load(const volatile void* address, unsigned size, std::memory_order order) {
  return model::atomic_read(const_cast<const void*>(address), shadow_of(address), size, order, "atomic load");
}

void atomic_store(volatile void* address, unsigned size, std::uint64_t value, std::memory_order order) {
  model::atomic_write(const_cast<void*>(address), shadow_of(address), size, value, order, "atomic store");
}

namespace {
struct RmwContext {
  Rmw op;
  std::uint64_t operand;
};
std::uint64_t apply(std::uint64_t old, const void* context) {
  const auto& c = *static_cast<const RmwContext*>(context);
  switch (c.op) {
    case Rmw::exchange:
      return c.operand;
    case Rmw::add:
      return old + c.operand;
    case Rmw::sub:
      return old - c.operand;
    case Rmw::bit_and:
      return old & c.operand;
    case Rmw::bit_or:
      return old | c.operand;
    case Rmw::bit_xor:
      return old ^ c.operand;
    case Rmw::nand:
      return ~(old & c.operand);
  }
  return old;
}
}  // namespace

std::uint64_t atomic_rmw(volatile void* address, unsigned size, Rmw op, std::uint64_t operand,
                         std::memory_order order) {
  // The model stores the low `size` bytes of the result: wrap-around is the operation's own.
  const RmwContext context{op, operand};
  return model::atomic_rmw(const_cast<void*>(address), shadow_of(address), size, order, &apply, &context, rmw_name(op));
}

bool atomic_compare_exchange(volatile void* address, unsigned size, std::uint64_t& expected, std::uint64_t desired,
                             std::memory_order success, std::memory_order failure, bool weak) {
  // The model compares bytes: only the low `size` bytes of the values are meaningful.
  const std::uint64_t mask = size >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * size)) - 1;
  expected &= mask;
  return model::atomic_compare_exchange(const_cast<void*>(address), shadow_of(address), size, expected, desired & mask,
                                        success, failure, weak);
}

void atomic_fence(std::memory_order order) { model::fence(order); }

void atomic_effects(const volatile void* address, bool store, std::memory_order order) noexcept {
  model::atomic_effects(const_cast<const void*>(address), shadow_of(address),
                        store ? model::AtomicOp::store : model::AtomicOp::load, order);
}

void wide_atomic_step(const volatile void* address, const char* what, model::AtomicOp op, std::memory_order order) {
  model::atomic_step(what, const_cast<const void*>(address), shadow_of(address), op, order);
}

void wide_atomic_effects(const volatile void* address, model::AtomicOp op, std::memory_order order) noexcept {
  model::atomic_effects(const_cast<const void*>(address), shadow_of(address), op, order);
}

bool futex_wait(const std::uint32_t* word, std::uint32_t expected, std::int64_t deadline_ns) {
  return model::futex_wait(word, shadow_of(word), expected, deadline_ns);
}

std::uint32_t futex_wake(const std::uint32_t* word, std::uint32_t count) {
  return model::futex_wake(word, shadow_of(word), count);
}

}  // namespace interleave::detail::std_runtime
