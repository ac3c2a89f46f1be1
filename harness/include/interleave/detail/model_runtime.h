// The model runtime's entry points, called by ModelPlatform's operations. Internal: users write
// against ModelPlatform (model_platform.h) and explore() (explore.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "interleave/source_location.h"

namespace interleave {

enum class FailureKind {
  assertion,            // INTERLEAVE_ASSERT or a GoogleTest assertion failed
  exception,            // an exception escaped a fiber or the body
  deadlock,             // every live fiber blocked, no deadline pending
  step_bound,           // more scheduling points than max_steps: a livelock or unbounded loop
  unjoined_fiber,       // a fiber was still running, or never joined, when the body returned
  contract_violation,   // a primitive was misused (for example unlock by a non-owner)
  nondeterminism,       // replaying the failing schedule did not fail the same way
  data_race,            // two accesses to a Shared<T> cell (one a write), or an object's destruction
                        // and a use of it, not ordered by happens-before
  resources_exhausted,  // a fiber could not be started: its stack could not be mapped
};

namespace detail::model {

// True while the calling code runs inside an exploration (on one of its fibers).
bool active() noexcept;

// A scheduling point: the strategy may switch to another fiber before the operation `what` on
// `object` happens. Throws detail::model::Aborted when the execution is being torn down.
void step(const char* what, const void* object);
// A scheduling point where the caller waits for another fiber (yield, one spin of a spin loop):
// strategies that favour one fiber (PCT) let the others go first.
void yield(const char* what);

// Virtual time in nanoseconds; advances only when every fiber is blocked.
std::int64_t now_ns();
std::uint32_t current_fiber() noexcept;

std::uint32_t spawn(std::function<void()> task);
void join(std::uint32_t fiber);
// A fiber handle was destroyed without join: reported as a failure.
void abandon(std::uint32_t fiber) noexcept;

// Records a failure of the current schedule and unwinds the calling fiber.
[[noreturn]] void fail(FailureKind kind, std::string message, interleave::source_location where);
// Records a failure without unwinding (for noexcept contexts); the next scheduling point unwinds.
void fail_later(FailureKind kind, std::string message, interleave::source_location where) noexcept;

// The primitive operations in progress on a fiber, outermost first (for traces and deadlock
// reports). Operations nest (Queue::get inside, say, a Mutex::lock); frames past kDepth are
// counted but not kept.
struct OperationFrame {
  const char* name;
  const void* object;
  interleave::source_location where;
};
struct OperationStack {
  static constexpr std::uint32_t kDepth = 6;
  OperationFrame frames[kDepth];
  std::uint32_t depth = 0;
  [[nodiscard]] const OperationFrame* outermost() const noexcept { return depth > 0 ? &frames[0] : nullptr; }
  [[nodiscard]] const OperationFrame* innermost() const noexcept {
    return depth > 0 ? &frames[(depth < kDepth ? depth : kDepth) - 1] : nullptr;
  }
};

// The running fiber's stack of operations; null outside an exploration. Set by the scheduler on
// every switch, so naming an operation costs two stores and no call.
extern thread_local OperationStack* current_operations;

inline void push_operation(const char* name, const void* object, interleave::source_location where) noexcept {
  OperationStack* stack = current_operations;
  if (stack == nullptr) return;
  if (stack->depth < OperationStack::kDepth) stack->frames[stack->depth] = OperationFrame{name, object, where};
  ++stack->depth;
}
inline void pop_operation() noexcept {
  OperationStack* stack = current_operations;
  if (stack != nullptr && stack->depth > 0) --stack->depth;
}

// --- The race detector's hooks (vector clocks; see harness/src/model/race_detector.h) -----------------

// What an atomic operation does to its object, for happens-before: a load reads it, a store
// writes it, a read-modify-write (exchange, fetch_*, successful compare-exchange) does both and
// continues the object's release sequence.
enum class AtomicOp : std::uint8_t { load, store, rmw };

// The race detector's handle on an atomic object's state, kept inline in the object (as a
// Shared<T> cell keeps its CellShadow), so that finding the state is one comparison, not a hash
// lookup. Valid only for the schedule whose number it carries.
struct AtomicShadow {
  std::uint64_t schedule = 0;
  std::uint32_t index = 0;
};

// A scheduling point for atomic operation `op` (memory order `order`) on `object`, which happens
// right after it returns (no other fiber runs in between): step() plus the operation's
// happens-before effects. `shadow` is the object's own.
void atomic_step(const char* what, const void* object, AtomicShadow& shadow, AtomicOp op, std::memory_order order);
// The happens-before effects of an operation whose kind is known only after it ran (a
// compare-exchange: rmw with the success order, or load with the failure order). Not a
// scheduling point.
void atomic_effects(const void* object, AtomicShadow& shadow, AtomicOp op, std::memory_order order) noexcept;
// Futex wait on `word` (the value of an atomic object whose race detector handle is `shadow`):
// returns at once if *word != expected; else blocks until woken, a spurious wake-up, or
// (deadline_ns >= 0) the virtual clock reaching the deadline. False on timeout.
bool futex_wait(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t expected, std::int64_t deadline_ns);
void futex_wake(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t count);
// An atomic object is being destroyed: every fiber's last operation on it must happen-before
// (else a data race is reported), and its clocks are dropped so a new object at the same address
// starts clean.
void atomic_destroyed(const void* object, AtomicShadow& shadow) noexcept;
// std::atomic_thread_fence(order) in the model.
void fence(std::memory_order order);

// One access to a Shared<T> cell, as its shadow state keeps it. clock 0: none.
struct CellAccess {
  std::uint32_t fiber = 0;
  std::uint32_t clock = 0;
  std::uint64_t step = 0;
  interleave::source_location where{};
};
// The shadow state a Shared<T> cell carries inline (FastTrack: the last write's epoch, and the
// last read's epoch or, while reads are unordered among themselves, a per-fiber read set kept by
// the runtime). Valid only for the schedule whose number is `schedule`.
struct CellShadow {
  std::uint64_t schedule = 0;
  CellAccess write;
  CellAccess read;
  std::uint32_t read_set = 0;  // 1-based index of the runtime's read set; 0: `read` alone
};
// Checks (and records) an access; reports a data race and unwinds when it is unordered with a
// conflicting earlier one. No-ops outside an exploration or with the detector off.
void cell_created(CellShadow& shadow, interleave::source_location where) noexcept;
void cell_access(CellShadow& shadow, bool write, interleave::source_location where);
void cell_destroyed(CellShadow& shadow) noexcept;

// Turns the race detector on or off for explorations started afterwards on any thread (on by
// default); returns the previous setting.
bool set_race_detector(bool on) noexcept;
bool race_detector() noexcept;

// Thrown through a fiber's stack to tear an execution down after a failure. Never catch it
// without rethrowing (catch (...) { ...; throw; } is fine).
struct Aborted {};

}  // namespace detail::model
}  // namespace interleave
