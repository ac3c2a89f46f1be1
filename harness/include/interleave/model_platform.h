// ModelPlatform: the platform whose threads are fibers under the deterministic scheduler.
//
// Every operation is a scheduling point: before it happens the strategy may run another fiber.
// Waits use modeled wait queues (with injected spurious wake-ups), the clock is virtual, and
// threads are fibers, all on one OS thread, so a schedule is exactly reproducible. Atomic
// operations follow the C++ memory model (Options::memory_model, docs/memory-model.md): a load
// may read an older store than the latest where relaxed or acquire/release orders allow it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "interleave/detail/model_runtime.h"
#include "interleave/detail/sanitizers.h"
#include "interleave/platform.h"
#include "interleave/source_location.h"

namespace interleave {

namespace detail::model {

// An atomic whose every operation is a scheduling point. Fibers run one at a time, so the value
// needs no hardware atomicity; under ThreadSanitizer it is a real std::atomic used with the
// caller's memory orders, so TSan sees the same happens-before edges as on real threads and
// reports races only in the body's plain memory. Objects of up to 8 bytes go through the memory
// model (model_runtime.h: atomic_read / atomic_write / atomic_rmw / atomic_compare_exchange):
// under the weak model (Options::memory_model, the default) a load may read an older store that
// the C++ memory model allows, and compare_exchange_weak may fail spuriously; under sc every
// load reads the latest store. Larger objects are always sequentially consistent. The race
// detector follows the memory orders and the store each load read, and the destructor checks that
// every fiber's last use happens-before the destruction.
template <class T>
class ModelAtomic {
  // T may be a pointer: its own size is meant (bugprone-sizeof-expression warns of sizeof(A*)).
  static constexpr auto kSize = static_cast<std::uint32_t>(sizeof(T));  // NOLINT(bugprone-sizeof-expression)
  static constexpr bool kModeled = kSize <= 8;

 public:
  constexpr ModelAtomic() noexcept = default;
  constexpr ModelAtomic(T value) noexcept : value_(value) {}  // NOLINT(google-explicit-constructor)
  ModelAtomic(const ModelAtomic&) = delete;
  ModelAtomic& operator=(const ModelAtomic&) = delete;
  ~ModelAtomic() { atomic_destroyed(this, shadow_); }

  T load(std::memory_order order = std::memory_order_seq_cst,
         interleave::source_location where = interleave::source_location::current()) const {
    if constexpr (kModeled) {
      const T value = from_bits(atomic_read(&value_, shadow_, kSize, order, "atomic load", where));
      tsan_sync(order, Sync::load);
      return value;
    } else {
      atomic_step("atomic load", this, shadow_, AtomicOp::load, order);
      return cell_load(order);
    }
  }
  void store(T value, std::memory_order order = std::memory_order_seq_cst,
             interleave::source_location where = interleave::source_location::current()) {
    if constexpr (kModeled) {
      atomic_write(mutable_address(), shadow_, kSize, to_bits(value), order, "atomic store", where);
      tsan_sync(order, Sync::store);
    } else {
      atomic_step("atomic store", this, shadow_, AtomicOp::store, order);
#if INTERLEAVE_TSAN
      value_.store(value, order);
#else
      value_ = value;
#endif
    }
  }
  T exchange(T value, std::memory_order order = std::memory_order_seq_cst,
             interleave::source_location where = interleave::source_location::current()) {
    return read_modify_write("atomic exchange", order, where, [value](T) { return value; });
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order success = std::memory_order_seq_cst,
                               std::memory_order failure = std::memory_order_seq_cst,
                               interleave::source_location where = interleave::source_location::current()) {
    return compare_exchange(expected, desired, success, failure, false, where);
  }
  // Under the weak memory model it may fail although the value equals `expected` (a recorded
  // decision of the schedule, Options::spurious_cas_permille), as on LL/SC hardware.
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success = std::memory_order_seq_cst,
                             std::memory_order failure = std::memory_order_seq_cst,
                             interleave::source_location where = interleave::source_location::current()) {
    return compare_exchange(expected, desired, success, failure, true, where);
  }
  T fetch_add(
      T delta, std::memory_order order = std::memory_order_seq_cst,
      interleave::source_location where = interleave::source_location::current()) requires std::is_integral_v<T> {
    return read_modify_write("atomic fetch_add", order, where, [delta](T v) { return static_cast<T>(v + delta); });
  }
  T fetch_sub(
      T delta, std::memory_order order = std::memory_order_seq_cst,
      interleave::source_location where = interleave::source_location::current()) requires std::is_integral_v<T> {
    return read_modify_write("atomic fetch_sub", order, where, [delta](T v) { return static_cast<T>(v - delta); });
  }
  T fetch_or(
      T bits, std::memory_order order = std::memory_order_seq_cst,
      interleave::source_location where = interleave::source_location::current()) requires std::is_integral_v<T> {
    return read_modify_write("atomic fetch_or", order, where, [bits](T v) { return static_cast<T>(v | bits); });
  }
  T fetch_and(
      T bits, std::memory_order order = std::memory_order_seq_cst,
      interleave::source_location where = interleave::source_location::current()) requires std::is_integral_v<T> {
    return read_modify_write("atomic fetch_and", order, where, [bits](T v) { return static_cast<T>(v & bits); });
  }
  T fetch_xor(
      T bits, std::memory_order order = std::memory_order_seq_cst,
      interleave::source_location where = interleave::source_location::current()) requires std::is_integral_v<T> {
    return read_modify_write("atomic fetch_xor", order, where, [bits](T v) { return static_cast<T>(v ^ bits); });
  }

  // The futex word, for ModelPlatform::wait (reading it is not a scheduling point).
  const std::uint32_t* address() const noexcept requires std::is_same_v<T, std::uint32_t> {
    return reinterpret_cast<const std::uint32_t*>(&value_);
  }
  // The race detector's handle on this object (for the futex operations on it).
  AtomicShadow& shadow() const noexcept { return shadow_; }

 private:
  static std::uint64_t to_bits(const T& value) noexcept {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &value, kSize);
    return bits;
  }
  static T from_bits(std::uint64_t bits) noexcept {
    T value;
    std::memcpy(&value, &bits, kSize);
    return value;
  }
  void* mutable_address() noexcept { return &value_; }

  // Under ThreadSanitizer, the operation again on the real std::atomic (same value), so that TSan
  // sees its happens-before edges; the model already did the operation itself.
  enum class Sync { load, store, rmw };
  void tsan_sync([[maybe_unused]] std::memory_order order, [[maybe_unused]] Sync kind) const {
#if INTERLEAVE_TSAN
    if (kind == Sync::load) {
      (void)value_.load(order == std::memory_order_release   ? std::memory_order_relaxed
                        : order == std::memory_order_acq_rel ? std::memory_order_acquire
                                                             : order);
    } else {
      // A store or RMW through a const operation's object (a load's own sync is a load): the value
      // stored is the one already there, so no observable state changes.
      auto& value = const_cast<std::atomic<T>&>(value_);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
      if (kind == Sync::store) {
        value.store(value.load(std::memory_order_relaxed), order);
      } else {
        (void)value.exchange(value.load(std::memory_order_relaxed), order);
      }
    }
#endif
  }

  T cell_load([[maybe_unused]] std::memory_order order) const {
#if INTERLEAVE_TSAN
    return value_.load(order);
#else
    return value_;
#endif
  }

  bool compare_exchange(T& expected, T desired, std::memory_order success, std::memory_order failure, bool weak,
                        interleave::source_location where) {
    if constexpr (kModeled) {
      std::uint64_t expected_bits = to_bits(expected);
      const bool exchanged = atomic_compare_exchange(mutable_address(), shadow_, kSize, expected_bits, to_bits(desired),
                                                     success, failure, weak, "atomic compare_exchange", where);
      if (exchanged) {
        tsan_sync(success, Sync::rmw);
      } else {
        expected = from_bits(expected_bits);
        tsan_sync(failure, Sync::load);
      }
      return exchanged;
    } else {
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
  }

  template <class F>
  T read_modify_write(const char* what, std::memory_order order, interleave::source_location where, F f) {
    if constexpr (kModeled) {
      const auto update = [](std::uint64_t old, const void* context) {
        return to_bits((*static_cast<const F*>(context))(from_bits(old)));
      };
      const T old = from_bits(atomic_rmw(mutable_address(), shadow_, kSize, order, update, &f, what, where));
      tsan_sync(order, Sync::rmw);
      return old;
    } else {
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
  }

#if INTERLEAVE_TSAN
  std::atomic<T> value_{};
#else
  T value_{};
#endif
  mutable AtomicShadow shadow_{};  // the race detector's handle (the value stays at offset 0: address())
};

// The race-checked cell: ModelPlatform::Cell<T> (and Shared<T, ModelPlatform>). Every access
// is checked by the race detector (see shared.h); accesses are not scheduling points.
template <class T>
class ModelCell {
 public:
  ModelCell(interleave::source_location where = interleave::source_location::current()) : value_{} {  // NOLINT
    cell_created(shadow_, where);
  }
  ModelCell(T value, interleave::source_location where = interleave::source_location::current())  // NOLINT
      : value_(std::move(value)) {
    cell_created(shadow_, where);
  }
  ModelCell(const ModelCell&) = delete;
  ModelCell& operator=(const ModelCell&) = delete;
  ~ModelCell() { cell_destroyed(shadow_); }

  [[nodiscard]] T read(interleave::source_location where = interleave::source_location::current()) const {
    cell_access(shadow_, false, where);
    return value_;
  }
  void write(T value, interleave::source_location where = interleave::source_location::current()) {
    cell_access(shadow_, true, where);
    value_ = std::move(value);
  }
  template <class F>
  decltype(auto) with(F&& f, interleave::source_location where = interleave::source_location::current()) const {
    cell_access(shadow_, false, where);
    return std::forward<F>(f)(static_cast<const T&>(value_));
  }
  template <class F>
  decltype(auto) with_mut(F&& f, interleave::source_location where = interleave::source_location::current()) {
    cell_access(shadow_, true, where);
    return std::forward<F>(f)(value_);
  }

 private:
  T value_;
  mutable CellShadow shadow_;
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
  template <class T>
  using Cell = detail::model::ModelCell<T>;
  using Clock = VirtualClock;
  using TimePoint = Clock::time_point;

  static constexpr bool process_shared = false;
  // A short spin keeps the primitives' spinning paths in the explored code, at little cost.
  static constexpr int spin_limit = 1;

  static TimePoint now() { return Clock::now(); }

  // The futex operations take their call site (the platform seam's other implementations do
  // not): a step outside any primitive's operation, e.g. in a user's own lock over P, is shown at
  // the line that called it.
  static void wait(const Atomic<std::uint32_t>& word, std::uint32_t expected,
                   interleave::source_location where = interleave::source_location::current()) {
    detail::model::futex_wait(word.address(), word.shadow(), expected, -1, where);
  }
  static bool wait_until(const Atomic<std::uint32_t>& word, std::uint32_t expected, TimePoint deadline,
                         interleave::source_location where = interleave::source_location::current()) {
    const auto ns = deadline.time_since_epoch().count();
    return detail::model::futex_wait(word.address(), word.shadow(), expected, ns < 0 ? 0 : ns, where);
  }
  static void wake_one(const Atomic<std::uint32_t>& word,
                       interleave::source_location where = interleave::source_location::current()) {
    detail::model::futex_wake(word.address(), word.shadow(), 1, where);
  }
  static void wake(const Atomic<std::uint32_t>& word, std::uint32_t count,
                   interleave::source_location where = interleave::source_location::current()) {
    detail::model::futex_wake(word.address(), word.shadow(), count, where);
  }
  static void wake_all(const Atomic<std::uint32_t>& word,
                       interleave::source_location where = interleave::source_location::current()) {
    detail::model::futex_wake(word.address(), word.shadow(), UINT32_MAX, where);
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

  // Names the running fiber in this schedule's reports and traces (interleave/names.h).
  static void name_thread(std::string_view name) { detail::model::name_fiber(name); }

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
