// The platform seam: what every primitive's algorithm is written against.
//
// Each primitive is a class template over a platform P (BasicMutex<P>, BasicQueue<T, P>, ...).
// The same algorithm then runs on real threads (NativePlatform), as fibers under the
// deterministic model scheduler (harness/), or on real threads with injected delays (Perturbed).
// A platform is a type with only static members and nested types, spelled like the standard
// library so the algorithm reads the same in every world:
//
//   template <class T> using Atomic        std::atomic-like: load/store/exchange/
//                                          compare_exchange_{weak,strong}/fetch_{add,sub,or,and}
//                                          with std::memory_order arguments.
//   template <class T> using Cell          non-atomic storage that threads hand to each other
//                                          through the atomics (detail/cell.h: read/write/with/
//                                          with_mut); a plain T natively, a race-checked cell in
//                                          the model.
//   fence(order)                           std::atomic_thread_fence(order).
//   using Clock, TimePoint                 a steady clock; `now()` reads it.
//   wait(a, expected)                      blocks while a == expected (futex semantics: may
//                                          return spuriously; callers re-check in a loop).
//   wait_until(a, expected, deadline)      as wait; returns false when the deadline passed.
//   wake_one(a) / wake(a, n) / wake_all(a) wakes waiters blocked on a.
//   yield()                                lets another thread run.
//   relax()                                one iteration of a spin loop.
//   spin_limit                             how many spin iterations before blocking.
//   process_shared                         true when waits/wakes work across processes
//                                          (the object must live in shared memory).
//   this_thread_id()                       a small integer naming the calling thread.
//   contract_violation(message, where)     a misuse of a primitive (never returns).
//   Thread                                 a started thread: Thread(std::function<void()>),
//                                          join(); std::thread on native, a fiber in the model.
//   Operation{name, object, where}         an RAII annotation naming the primitive operation in
//                                          progress; free on native, a trace entry in the model.
//
// `Atomic<std::uint32_t>` is the futex word: only 32-bit atomics can be waited on.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <string_view>

#include "interleave/source_location.h"

namespace interleave {

template <class P>
concept Platform = requires(const typename P::template Atomic<std::uint32_t>& word, std::uint32_t value,
                            typename P::TimePoint deadline, std::string_view message,
                            interleave::source_location where) {
  { P::now() } -> std::same_as<typename P::TimePoint>;
  {P::wait(word, value)};
  { P::wait_until(word, value, deadline) } -> std::same_as<bool>;
  {P::wake_one(word)};
  {P::wake(word, value)};
  {P::wake_all(word)};
  {P::fence(std::memory_order_seq_cst)};
  typename P::template Cell<std::uint32_t>;
  {P::yield()};
  {P::relax()};
  { P::spin_limit } -> std::convertible_to<int>;
  { P::process_shared } -> std::convertible_to<bool>;
  { P::this_thread_id() } -> std::same_as<std::uint32_t>;
  {P::contract_violation(message, where)};
  typename P::Operation;
  typename P::Thread;
};

}  // namespace interleave
