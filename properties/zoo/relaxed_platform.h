// RelaxedOrdersPlatform<Base>: Base with every memory order weakened to relaxed and every fence
// dropped. Any primitive built over it is the real algorithm with its ordering bug: a put whose
// slot publication is relaxed, a lock whose acquire and release are relaxed. The race detector
// must then report the primitive's own non-atomic storage (its P::Cell: a Queue ring slot, a
// Pipe's guarded state) as raced (DetectorMustReport.*WithRelaxedOrders).
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "interleave/platform.h"

namespace interleave::zoo {

template <Platform Base>
struct RelaxedOrdersPlatform : Base {
  template <class T>
  class Atomic {
   public:
    static constexpr std::memory_order kRelaxed = std::memory_order_relaxed;

    constexpr Atomic() noexcept = default;
    constexpr Atomic(T value) noexcept : inner_(value) {}  // NOLINT(google-explicit-constructor)
    Atomic(const Atomic&) = delete;
    Atomic& operator=(const Atomic&) = delete;

    T load(std::memory_order = kRelaxed) const { return inner_.load(kRelaxed); }
    void store(T value, std::memory_order = kRelaxed) { inner_.store(value, kRelaxed); }
    T exchange(T value, std::memory_order = kRelaxed) { return inner_.exchange(value, kRelaxed); }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order = kRelaxed, std::memory_order = kRelaxed) {
      return inner_.compare_exchange_strong(expected, desired, kRelaxed, kRelaxed);
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order = kRelaxed, std::memory_order = kRelaxed) {
      return inner_.compare_exchange_weak(expected, desired, kRelaxed, kRelaxed);
    }
    T fetch_add(T delta, std::memory_order = kRelaxed) requires std::is_integral_v<T> {
      return inner_.fetch_add(delta, kRelaxed);
    }
    T fetch_sub(T delta, std::memory_order = kRelaxed) requires std::is_integral_v<T> {
      return inner_.fetch_sub(delta, kRelaxed);
    }
    T fetch_or(T bits, std::memory_order = kRelaxed) requires std::is_integral_v<T> {
      return inner_.fetch_or(bits, kRelaxed);
    }
    T fetch_and(T bits, std::memory_order = kRelaxed) requires std::is_integral_v<T> {
      return inner_.fetch_and(bits, kRelaxed);
    }
    T fetch_xor(T bits, std::memory_order = kRelaxed) requires std::is_integral_v<T> {
      return inner_.fetch_xor(bits, kRelaxed);
    }

    // Base's atomic, for Base's futex operations.
    [[nodiscard]] const typename Base::template Atomic<T>& inner() const noexcept { return inner_; }

   private:
    typename Base::template Atomic<T> inner_{};
  };

  static void wait(const Atomic<std::uint32_t>& word, std::uint32_t expected) { Base::wait(word.inner(), expected); }
  static bool wait_until(const Atomic<std::uint32_t>& word, std::uint32_t expected, typename Base::TimePoint deadline) {
    return Base::wait_until(word.inner(), expected, deadline);
  }
  static void wake_one(const Atomic<std::uint32_t>& word) { Base::wake_one(word.inner()); }
  static void wake(const Atomic<std::uint32_t>& word, std::uint32_t count) { Base::wake(word.inner(), count); }
  static void wake_all(const Atomic<std::uint32_t>& word) { Base::wake_all(word.inner()); }
  static void fence(std::memory_order) {}
};

}  // namespace interleave::zoo
