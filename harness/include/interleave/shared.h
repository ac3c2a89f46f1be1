// Shared<T, P>: plain (non-atomic) data that several threads touch, checked for data races under
// the model (like loom's UnsafeCell or Relacy's var<T>). It is the platform's own cell,
// P::Cell<T> (platform.h), which the primitives use for their non-atomic storage too.
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

#include "interleave/detail/model_runtime.h"
#include "interleave/model_platform.h"
#include "interleave/native_platform.h"
#include "interleave/source_location.h"

namespace interleave {

// The platform's cell (P::Cell<T>: detail::PlainCell natively, detail::model::ModelCell in the
// model), under the name tests and bodies use.
template <class T, class P = NativePlatform>
using Shared = typename P::template Cell<T>;

static_assert(sizeof(Shared<int, NativePlatform>) == sizeof(int) && std::is_standard_layout_v<Shared<int>>);

// std::atomic_thread_fence(order) on platform P: the model sees it as a happens-before edge (a
// release fence before a relaxed store, a relaxed load before an acquire fence).
template <Platform P>
void atomic_thread_fence(std::memory_order order) {
  P::fence(order);
}

// Turns the model's race detector off (or on again) for explorations started afterwards, and
// returns the previous setting. It is on by default; with it off Shared<T> cells are not checked
// and atomics carry no clocks (schedules run somewhat faster; races are not reported).
inline bool set_race_detector(bool on) noexcept { return detail::model::set_race_detector(on); }

}  // namespace interleave
