// Internal to the harness library: the interface every exploration strategy implements.
//
// A strategy decides, at each scheduling point with more than one runnable fiber, which one runs
// next. It sees each runnable fiber's pending operation: what the fiber will do as soon as it runs
// (the kind, the object, whether it reads or writes it, and its memory order), recorded by the
// runtime at the fiber's last scheduling point. A strategy lives in its own file under
// strategies/ and is listed in strategies/registry.cpp: adding one touches no scheduler code.
//
// All randomness comes from the schedule's one generator (seeded by (seed, index), owned by the
// Chooser and shared with its other decisions), so a schedule replays exactly from its ScheduleId.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "interleave/detail/random.h"
#include "interleave/schedule.h"

namespace interleave::detail::model {

// How a pending operation touches its object.
enum class Access : std::uint8_t {
  none,   // no memory effect known (spawn, join, a yield, a fiber not started yet)
  read,   // an atomic load, a futex wait (it reads the word)
  write,  // an atomic store, a futex wake (it changes what a waiter sees)
  rmw,    // an atomic read-modify-write or compare-exchange
};

// What a fiber will do when it next runs.
struct PendingOp {
  const char* what = "start";    // "atomic load", "futex wait", ... (a literal)
  const void* object = nullptr;  // the atomic, futex word, ...; nullptr: none
  Access access = Access::none;
  std::memory_order order = std::memory_order_seq_cst;
};

// Whether two pending operations can affect each other: the same object, and at least one of them
// may change it. An operation whose access is unknown conflicts with anything on its object.
inline bool conflicts(const PendingOp& a, const PendingOp& b) noexcept {
  if (a.object == nullptr || a.object != b.object) return false;
  return a.access != Access::read || b.access != Access::read;
}

// A fiber picked at this many choice points in a row, while others could run, is taken to spin
// without yielding: PCT then lets the others go first, DPOR ends its search (it would unroll the
// spin without end).
inline constexpr std::uint32_t kSpinRun = 1000;

// One pick: `runnable` has at least two fibers; `pending` is indexed by fiber number.
struct PickContext {
  const std::vector<std::uint32_t>& runnable;
  std::uint32_t current;  // the fiber at the scheduling point (it ran the previous step)
  bool current_runnable;  // false when it just blocked or finished
  std::uint64_t step;     // scheduling points executed so far
  std::uint64_t choice;   // choice points so far, this one included: picks with two or more runnable fibers
  const std::vector<PendingOp>& pending;
};

class SchedulingStrategy {
 public:
  SchedulingStrategy() = default;
  SchedulingStrategy(const SchedulingStrategy&) = delete;
  SchedulingStrategy& operator=(const SchedulingStrategy&) = delete;
  virtual ~SchedulingStrategy() = default;

  // A new schedule starts; `rng` is already seeded for it. Draws made here come first.
  virtual void begin(const ScheduleId& id, Xoshiro256& rng) = 0;
  // Fiber `fiber` was created (fiber 0, the body, at the start of every schedule).
  virtual void on_spawn(std::uint32_t /*fiber*/, Xoshiro256& /*rng*/) {}
  // Which of ctx.runnable runs next.
  virtual std::uint32_t pick(const PickContext& ctx, Xoshiro256& rng) = 0;
  // Whether on_yield is wanted: the runtime then reports each yield or spin iteration.
  [[nodiscard]] virtual bool wants_yields() const noexcept { return false; }
  // `fiber` yields: it waits for another fiber to do something.
  virtual void on_yield(std::uint32_t /*fiber*/) {}
  // Whether pick() is also asked when a single fiber can run (ctx.runnable has one fiber): a
  // strategy that records every step (DPOR) wants it; the others are spared the call.
  [[nodiscard]] virtual bool wants_every_pick() const noexcept { return false; }
  // A choice among `positions` (>= 2) that is not a pick of a fiber: which waiter a wake takes
  // (0: the longest waiter).
  virtual std::uint32_t pick_value(std::uint32_t positions, Xoshiro256& rng) {
    return static_cast<std::uint32_t>(rng.below(positions));
  }
  // `fiber` returned from joining `target`, which has finished: whatever `target` did happens
  // before what `fiber` does next.
  virtual void on_join(std::uint32_t /*fiber*/, std::uint32_t /*target*/) {}
};

}  // namespace interleave::detail::model
