// ModelPlatform: the platform whose threads are fibers under the deterministic scheduler.
//
// Every operation is a scheduling point: before it happens the strategy may run another fiber.
// Waits use modeled wait queues (with injected spurious wake-ups), the clock is virtual, and
// threads are fibers, all on one OS thread, so a schedule is exactly reproducible. The model
// interleaves operations sequentially consistently: it explores orderings of operations, not the
// weaker reorderings that relaxed memory orders allow on real hardware.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "interleave/detail/fiber.h"
#include "interleave/detail/model_runtime.h"
#include "interleave/platform.h"
#include "interleave/source_location.h"

namespace interleave {

namespace detail::model {

// An atomic whose every operation is a scheduling point. Fibers run one at a time, so the value
// needs no hardware atomicity; under ThreadSanitizer it is a real std::atomic used with the
// caller's memory orders, so TSan sees the same happens-before edges as on real threads and
// reports races only in the body's plain memory. The model itself interleaves operations
// sequentially consistently (every load reads the latest store), and its race detector follows
// the memory orders: each operation tells it its kind (load, store, read-modify-write) and order,
// and the destructor checks that every fiber's last use happens-before the destruction.
template <class T>
class ModelAtomic {
 public:
  constexpr ModelAtomic() noexcept = default;
  constexpr ModelAtomic(T value) noexcept : value_(value) {}  // NOLINT(google-explicit-constructor)
  ModelAtomic(const ModelAtomic&) = delete;
  ModelAtomic& operator=(const ModelAtomic&) = delete;
  ~ModelAtomic() { atomic_destroyed(this, shadow_); }

  T load(std::memory_order order = std::memory_order_seq_cst) const {
    atomic_step("atomic load", this, shadow_, AtomicOp::load, order);
    return cell_load(order);
  }
  void store(T value, std::memory_order order = std::memory_order_seq_cst) {
    atomic_step("atomic store", this, shadow_, AtomicOp::store, order);
#if INTERLEAVE_TSAN
    value_.store(value, order);
#else
    (void)order;
    value_ = value;
#endif
  }
  T exchange(T value, std::memory_order order = std::memory_order_seq_cst) {
    atomic_step("atomic exchange", this, shadow_, AtomicOp::rmw, order);
#if INTERLEAVE_TSAN
    return value_.exchange(value, order);
#else
    (void)order;
    return std::exchange(value_, value);
#endif
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order success = std::memory_order_seq_cst,
                               std::memory_order failure = std::memory_order_seq_cst) {
    step("atomic compare_exchange", this);
#if INTERLEAVE_TSAN
    const bool exchanged = value_.compare_exchange_strong(expected, desired, success, failure);
#else
    const bool exchanged = value_ == expected;
    if (exchanged) {
      value_ = desired;
    } else {
      expected = value_;
    }
#endif
    atomic_effects(this, shadow_, exchanged ? AtomicOp::rmw : AtomicOp::load, exchanged ? success : failure);
    return exchanged;
  }
  // Never fails spuriously in the model: the schedules already explore the interleavings that
  // make a weak compare-exchange fail on real hardware.
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success = std::memory_order_seq_cst,
                             std::memory_order failure = std::memory_order_seq_cst) {
    return compare_exchange_strong(expected, desired, success, failure);
  }
  T fetch_add(T delta, std::memory_order order = std::memory_order_seq_cst) requires std::is_integral_v<T> {
    return read_modify_write("atomic fetch_add", order, [delta](T v) { return static_cast<T>(v + delta); });
  }
  T fetch_sub(T delta, std::memory_order order = std::memory_order_seq_cst) requires std::is_integral_v<T> {
    return read_modify_write("atomic fetch_sub", order, [delta](T v) { return static_cast<T>(v - delta); });
  }
  T fetch_or(T bits, std::memory_order order = std::memory_order_seq_cst) requires std::is_integral_v<T> {
    return read_modify_write("atomic fetch_or", order, [bits](T v) { return static_cast<T>(v | bits); });
  }
  T fetch_and(T bits, std::memory_order order = std::memory_order_seq_cst) requires std::is_integral_v<T> {
    return read_modify_write("atomic fetch_and", order, [bits](T v) { return static_cast<T>(v & bits); });
  }
  T fetch_xor(T bits, std::memory_order order = std::memory_order_seq_cst) requires std::is_integral_v<T> {
    return read_modify_write("atomic fetch_xor", order, [bits](T v) { return static_cast<T>(v ^ bits); });
  }

  // The futex word, for ModelPlatform::wait (reading it is not a scheduling point).
  const std::uint32_t* address() const noexcept requires std::is_same_v<T, std::uint32_t> {
    return reinterpret_cast<const std::uint32_t*>(&value_);
  }
  // The race detector's handle on this object (for the futex operations on it).
  AtomicShadow& shadow() const noexcept { return shadow_; }

 private:
  T cell_load([[maybe_unused]] std::memory_order order) const {
#if INTERLEAVE_TSAN
    return value_.load(order);
#else
    return value_;
#endif
  }

  template <class F>
  T read_modify_write(const char* what, std::memory_order order, F f) {
    atomic_step(what, this, shadow_, AtomicOp::rmw, order);
#if INTERLEAVE_TSAN
    T old = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(old, f(old), order, std::memory_order_relaxed)) {
    }
    return old;
#else
    return std::exchange(value_, f(value_));
#endif
  }

#if INTERLEAVE_TSAN
  std::atomic<T> value_{};
#else
  T value_{};
#endif
  mutable AtomicShadow shadow_{};  // the race detector's handle (the value stays at offset 0: address())
};

}  // namespace detail::model

// A steady clock that reads the model's virtual time.
struct VirtualClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<VirtualClock>;
  static constexpr bool is_steady = true;
  static time_point now() { return time_point(duration(detail::model::now_ns())); }
};

struct ModelPlatform {
  template <class T>
  using Atomic = detail::model::ModelAtomic<T>;
  using Clock = VirtualClock;
  using TimePoint = Clock::time_point;

  static constexpr bool process_shared = false;
  // A short spin keeps the primitives' spinning paths in the explored code, at little cost.
  static constexpr int spin_limit = 1;

  static TimePoint now() { return Clock::now(); }

  static void wait(const Atomic<std::uint32_t>& word, std::uint32_t expected) {
    detail::model::futex_wait(word.address(), word.shadow(), expected, -1);
  }
  static bool wait_until(const Atomic<std::uint32_t>& word, std::uint32_t expected, TimePoint deadline) {
    const auto ns = deadline.time_since_epoch().count();
    return detail::model::futex_wait(word.address(), word.shadow(), expected, ns < 0 ? 0 : ns);
  }
  static void wake_one(const Atomic<std::uint32_t>& word) {
    detail::model::futex_wake(word.address(), word.shadow(), 1);
  }
  static void wake(const Atomic<std::uint32_t>& word, std::uint32_t count) {
    detail::model::futex_wake(word.address(), word.shadow(), count);
  }
  static void wake_all(const Atomic<std::uint32_t>& word) {
    detail::model::futex_wake(word.address(), word.shadow(), UINT32_MAX);
  }
  static void yield() { detail::model::yield("yield"); }
  // std::atomic_thread_fence in the model: a scheduling point, and an edge for the race detector.
  // (ThreadSanitizer does not support fences, so under it the fence is the model's only.)
  static void fence(std::memory_order order) { detail::model::fence(order); }
  static void relax() { detail::model::yield("spin"); }

  static std::uint32_t this_thread_id() noexcept { return detail::model::current_fiber() + 1; }

  [[noreturn]] static void contract_violation(std::string_view message, interleave::source_location where) {
    detail::model::fail(FailureKind::contract_violation, std::string(message), where);
  }

  class Operation {
   public:
    Operation(const char* name, const void* object, interleave::source_location where) noexcept {
      detail::model::push_operation(name, object, where);
    }
    Operation(const Operation&) = delete;
    Operation& operator=(const Operation&) = delete;
    ~Operation() { detail::model::pop_operation(); }
  };

  // A fiber, started on construction (the spawn is a scheduling point).
  class Thread {
   public:
    explicit Thread(std::function<void()> task) : id_(detail::model::spawn(std::move(task))), joinable_(true) {}
    Thread(Thread&& other) noexcept : id_(other.id_), joinable_(std::exchange(other.joinable_, false)) {}
    Thread& operator=(Thread&&) = delete;
    Thread(const Thread&) = delete;
    Thread& operator=(const Thread&) = delete;
    ~Thread() {
      if (joinable_) detail::model::abandon(id_);
    }
    void join() {
      joinable_ = false;
      detail::model::join(id_);
    }
    [[nodiscard]] bool joinable() const noexcept { return joinable_; }

   private:
    std::uint32_t id_;
    bool joinable_;
  };
};

static_assert(Platform<ModelPlatform>);

}  // namespace interleave
