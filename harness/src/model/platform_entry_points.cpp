// The entry points ModelPlatform and the std runtime call (model_runtime.h): each finds the
// runtime of the exploration running on this thread and hands the operation to it.
#include <absl/strings/str_cat.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "interleave/contract.h"
#include "model/runtime.h"
#include "model/schedule_inline.h"

namespace interleave::detail::model {

std::size_t fingerprint_text_for_signal(char* out, std::size_t capacity) noexcept {
  // No allocation and no formatting library: this runs in a signal handler.
  char text[40];
  std::size_t n = 0;
  const Runtime* rt = current_runtime;
  const TestFingerprint f = rt != nullptr ? rt->fingerprint() : TestFingerprint{};
  if (!f.recorded()) {
    text[n++] = '-';
  } else {
    const auto decimal = [&](std::uint32_t v) {
      char digits[10];
      std::size_t k = 0;
      do {
        digits[k++] = static_cast<char>('0' + v % 10);
        v /= 10;
      } while (v != 0);
      while (k > 0) text[n++] = digits[--k];
    };
    decimal(f.steps);
    text[n++] = '-';
    decimal(f.fibers);
    text[n++] = '-';
    for (int shift = 28; shift >= 0; shift -= 4) text[n++] = "0123456789abcdef"[(f.hash >> shift) & 15U];
  }
  const std::size_t copied = std::min(n, capacity);
  for (std::size_t i = 0; i < copied; ++i) out[i] = text[i];
  return copied;
}

namespace {
Access access_of(AtomicOp op) noexcept {
  return op == AtomicOp::load ? Access::read : op == AtomicOp::store ? Access::write : Access::rmw;
}

Runtime& require_runtime(const char* what) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    std::fprintf(stderr,
                 "interleave: %s on ModelPlatform outside an exploration; ModelPlatform objects are only usable "
                 "inside interleave::explore()\n",
                 what);
    std::abort();
  }
  return *rt;
}
}  // namespace

void step(const char* what, const void* object) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;  // e.g. constructing or destroying a model object outside explore()
  IgnoreScope ignore;
  rt->schedule_inline(what, object, false);
}

void atomic_step(const char* what, const void* object, AtomicShadow& shadow, AtomicOp op, std::memory_order order) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->schedule_inline(what, object, false, false, access_of(op), order);
  rt->atomic_effects(object, shadow, op, order);
}

void atomic_effects(const void* object, AtomicShadow& shadow, AtomicOp op, std::memory_order order) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  try {
    rt->atomic_effects(object, shadow, op, order);
  } catch (...) {
    rt->fail_later(FailureKind::exception, detector_error(std::current_exception()), {});
  }
}

std::uint64_t atomic_read(const void* address, AtomicShadow& shadow, std::uint32_t size, std::memory_order order,
                          const char* what, interleave::source_location where) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, address, size);
    return bits;
  }
  IgnoreScope ignore;
  rt->note_site(where);
  rt->schedule_inline(what, address, false, false, Access::read, order);
  return rt->atomic_read(address, shadow, size, order, what, where);
}

void atomic_write(void* address, AtomicShadow& shadow, std::uint32_t size, std::uint64_t value, std::memory_order order,
                  const char* what, interleave::source_location where) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    std::memcpy(address, &value, size);
    return;
  }
  IgnoreScope ignore;
  rt->note_site(where);
  rt->schedule_inline(what, address, false, false, Access::write, order);
  rt->atomic_write(address, shadow, size, value, order);
}

std::uint64_t atomic_rmw(void* address, AtomicShadow& shadow, std::uint32_t size, std::memory_order order,
                         AtomicUpdate update, const void* context, const char* what,
                         interleave::source_location where) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    std::uint64_t old = 0;
    std::memcpy(&old, address, size);
    const std::uint64_t updated = update(old, context);
    std::memcpy(address, &updated, size);
    return old;
  }
  IgnoreScope ignore;
  rt->note_site(where);
  rt->schedule_inline(what, address, false, false, Access::rmw, order);
  return rt->atomic_rmw(address, shadow, size, order, update, context);
}

bool atomic_compare_exchange(void* address, AtomicShadow& shadow, std::uint32_t size, std::uint64_t& expected,
                             std::uint64_t desired, std::memory_order success, std::memory_order failure, bool weak,
                             const char* what, interleave::source_location where) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    std::uint64_t found = 0;
    std::memcpy(&found, address, size);
    if (found != expected) {
      expected = found;
      return false;
    }
    std::memcpy(address, &desired, size);
    return true;
  }
  IgnoreScope ignore;
  rt->note_site(where);
  rt->schedule_inline(what, address, false, false, Access::rmw, success);
  return rt->atomic_compare_exchange(address, shadow, size, expected, desired, success, failure, weak);
}

void atomic_destroyed(const void* object, AtomicShadow& shadow) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->atomic_destroyed(object, shadow);
}

void fence(std::memory_order order) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->fence(order);
}

void cell_created(CellShadow& shadow, interleave::source_location where) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    shadow = CellShadow{};
    return;
  }
  IgnoreScope ignore;
  rt->cell_created(shadow, where);
}

void cell_access(CellShadow& shadow, bool write, interleave::source_location where) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->cell_access(shadow, write, where);
}

void cell_destroyed(CellShadow& shadow) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->cell_destroyed(shadow);
}

namespace {
std::atomic<bool> g_race_detector{true};
}  // namespace

bool set_race_detector(bool on) noexcept { return g_race_detector.exchange(on, std::memory_order_relaxed); }
bool race_detector() noexcept { return g_race_detector.load(std::memory_order_relaxed); }

void yield(const char* what) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->foldable_inline(what, true);
}

bool futex_wait(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t expected, std::int64_t deadline_ns,
                interleave::source_location where) {
  Runtime& rt = require_runtime("a futex wait");
  IgnoreScope ignore;
  if (where.line() != 0) rt.note_site(where);
  return rt.futex_wait(word, shadow, expected, deadline_ns);
}

std::uint32_t futex_wake(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t count,
                         interleave::source_location where) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return 0;
  IgnoreScope ignore;
  if (where.line() != 0) rt->note_site(where);
  return rt->futex_wake(word, shadow, count);
}

std::int64_t now_ns() {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return 0;
  IgnoreScope ignore;
  rt->foldable_inline("clock read", false);
  return rt->now();
}

void memory_access(const void* address, std::size_t size, bool write, const void* pc, const void* const* callers,
                   std::size_t depth, std::uint64_t version) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  // No IgnoreScope: the only caller, the std runtime's access hook, holds a HookScope (the same
  // runtime depth), and this is its hottest path.
  rt->memory_access(address, size, write, pc, callers, depth, version);
}

void memory_allocated(const void* address, std::size_t size) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->forget_memory(address, size);
}

void memory_freed(const void* address, std::size_t size, const void* pc, const void* const* callers, std::size_t depth,
                  std::uint64_t version) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->memory_freed(address, size, pc, callers, depth, version);
}

std::uint32_t current_fiber() noexcept {
  Runtime* rt = current_runtime;
  return rt == nullptr ? 0 : rt->current_fiber();
}

std::uint32_t spawn(std::function<void()> task) {
  Runtime& rt = require_runtime("starting a thread");
  IgnoreScope ignore;
  return rt.spawn(std::move(task));
}

void join(std::uint32_t fiber) {
  Runtime& rt = require_runtime("joining a thread");
  IgnoreScope ignore;
  rt.join(fiber);
}

void name_fiber(std::string_view name) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->names().name_fiber(rt->current_fiber(), name);
}

void name_object(const void* object, std::size_t size, std::string_view name) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->names().name_object(object, size, name);
}

void abandon(std::uint32_t fiber) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->abandon(fiber);
}

void fail(FailureKind kind, std::string message, interleave::source_location where) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    report_contract_violation(message, where);
  }
  rt->fail(kind, std::move(message), where);
}

void abandon_fiber(FailureKind kind, std::string message) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) std::abort();
  rt->abandon_current(kind, std::move(message));
}

void fail_later(FailureKind kind, std::string message, interleave::source_location where) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  rt->fail_later(kind, std::move(message), where);
}

}  // namespace interleave::detail::model
