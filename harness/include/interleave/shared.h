// Shared<T, P>: plain (non-atomic) data that several threads touch, checked for data races under
// the model (like loom's UnsafeCell or Relacy's var<T>).
//
//   template <interleave::Platform P> void body() {
//     interleave::Shared<int, P> counter{0};
//     interleave::BasicMutex<P> lock;
//     interleave::BasicThread<P> t([&] { std::lock_guard g(lock); counter.write(counter.read() + 1); });
//     ...
//   }
//
// Under ModelPlatform every access is checked by the model's happens-before race detector: two
// accesses to one cell, at least one a write, that no happens-before edge orders (thread
// start/join, release/acquire atomics, a futex wake and the wait it ends — and so every
// primitive built on them) fail the schedule with DATA RACE, naming both accesses (fiber, read or
// write, source location, step), on the first schedule where both run, whatever the interleaving.
// Destroying a cell while an access to it is not ordered before the destruction is reported the
// same way. Accesses are not scheduling points: they do not lengthen schedules.
//
// On every other platform (NativePlatform, ...) Shared<T, P> is a plain T: same size, and every
// accessor an inline pass-through, so the same body runs on real threads at full speed (and
// ThreadSanitizer sees its accesses as the plain accesses they are).
//
// Access:
//   read()            a copy of the value (a read)
//   write(v)          assigns (a write)
//   with(f)           f(const T&) — a scoped read, for values not worth copying
//   with_mut(f)       f(T&) — a scoped mutable access, checked as a write
// Each takes the caller's source location as a defaulted last argument, for reports.
#pragma once

#include <atomic>
#include <type_traits>
#include <utility>

#include "interleave/detail/model_runtime.h"
#include "interleave/model_platform.h"
#include "interleave/native_platform.h"
#include "interleave/source_location.h"

namespace interleave {

// The plain cell: what Shared<T, P> is for every platform but ModelPlatform.
template <class T, class P = NativePlatform>
class Shared {
 public:
  Shared() = default;
  Shared(T value, interleave::source_location = interleave::source_location::current())  // NOLINT
      : value_(std::move(value)) {}
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  [[nodiscard]] T read(interleave::source_location = interleave::source_location::current()) const { return value_; }
  void write(T value, interleave::source_location = interleave::source_location::current()) {
    value_ = std::move(value);
  }
  template <class F>
  decltype(auto) with(F&& f, interleave::source_location = interleave::source_location::current()) const {
    return std::forward<F>(f)(static_cast<const T&>(value_));
  }
  template <class F>
  decltype(auto) with_mut(F&& f, interleave::source_location = interleave::source_location::current()) {
    return std::forward<F>(f)(value_);
  }

 private:
  T value_{};
};

// The checked cell, under the model.
template <class T>
class Shared<T, ModelPlatform> {
 public:
  Shared(interleave::source_location where = interleave::source_location::current()) : value_{} {  // NOLINT
    detail::model::cell_created(shadow_, where);
  }
  Shared(T value, interleave::source_location where = interleave::source_location::current())  // NOLINT
      : value_(std::move(value)) {
    detail::model::cell_created(shadow_, where);
  }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  ~Shared() { detail::model::cell_destroyed(shadow_); }

  [[nodiscard]] T read(interleave::source_location where = interleave::source_location::current()) const {
    detail::model::cell_access(shadow_, false, where);
    return value_;
  }
  void write(T value, interleave::source_location where = interleave::source_location::current()) {
    detail::model::cell_access(shadow_, true, where);
    value_ = std::move(value);
  }
  template <class F>
  decltype(auto) with(F&& f, interleave::source_location where = interleave::source_location::current()) const {
    detail::model::cell_access(shadow_, false, where);
    return std::forward<F>(f)(static_cast<const T&>(value_));
  }
  template <class F>
  decltype(auto) with_mut(F&& f, interleave::source_location where = interleave::source_location::current()) {
    detail::model::cell_access(shadow_, true, where);
    return std::forward<F>(f)(value_);
  }

 private:
  T value_;
  mutable detail::model::CellShadow shadow_;
};

static_assert(sizeof(Shared<int, NativePlatform>) == sizeof(int) && std::is_standard_layout_v<Shared<int>>);

// std::atomic_thread_fence(order) on platform P: the model sees it as a happens-before edge (a
// release fence before a relaxed store, a relaxed load before an acquire fence).
template <class P>
void atomic_thread_fence(std::memory_order order) {
  if constexpr (requires { P::fence(order); }) {
    P::fence(order);
  } else {
    std::atomic_thread_fence(order);
  }
}

// Turns the model's race detector off (or on again) for explorations started afterwards, and
// returns the previous setting. It is on by default; with it off Shared<T> cells are not checked
// and atomics carry no clocks (schedules run somewhat faster; races are not reported).
inline bool set_race_detector(bool on) noexcept { return detail::model::set_race_detector(on); }

}  // namespace interleave
