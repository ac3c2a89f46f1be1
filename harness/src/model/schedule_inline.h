// Runtime::schedule_inline: one scheduling point, defined here so that the entry points of the
// common operations (platform_entry_points.cpp) and the runtime itself inline it; and the steps
// that are events, not scheduling points.
//
// Which steps are scheduling points. A point before an operation lets the other fibers run
// before it; that matters only if something they do can be ordered against it. The operations on
// shared objects (atomics, futex waits and wakes, fences) are points. These are events (counted,
// recorded, bounded by max_steps, but no pick), because whatever another fiber does at that moment
// commutes with them, so running it before the event or at the fiber's next point is the same
// interleaving:
// - spawn: the new fiber cannot be reached before the spawn returns;
// - join: of a finished fiber it only reads that it finished, which is final; of a running one
//   the joiner blocks (the others are picked from there);
// - yield and spin: they change nothing; the strategy hears of the yield at once, and the fiber's
//   next point is where the others go first;
// - clock read: the virtual clock moves only when every fiber waits, never while this one runs.
// A yield or clock read right after another one run as an event is a point: a loop of them with
// nothing else (polling a plain variable) still lets the others run, and its race be found.
#pragma once

#include <absl/strings/str_cat.h>

#include "model/runtime.h"

namespace interleave::detail::model {

void Runtime::count_step(const char* what, const void* object, bool choice) {
  if (++steps_ > max_steps_) {
    fail(FailureKind::step_bound,
         absl::StrCat("more than ", max_steps_,
                      " scheduling points in one schedule: a livelock, a spin without progress, or an unbounded "
                      "loop (raise INTERLEAVE_MAX_STEPS if the body is simply long)"),
         {});
  }
  heartbeat_.step.store(steps_, std::memory_order_relaxed);
  heartbeat_.what.store(what, std::memory_order_relaxed);
  heartbeat_.what_fiber.store(current_, std::memory_order_relaxed);
  record(what, object, choice);
}

void Runtime::schedule_inline(const char* what, const void* object, bool yielding, bool blocking, Access access,
                              std::memory_order order) {
  beat();
  if (aborting_) {
    check_abort(yielding || blocking);
    return;
  }
  chooser_.note_pending(current_, PendingOp{what, object, access, order});
  fibers_[current_].folded = false;
  if (yielding && chooser_.prioritizing()) chooser_.deprioritize(current_);
  const auto next = pick_next(true);
  if (next && *next != current_) {
    ++preemptions_;
    if (full_trace_) preempted_ = current_;
    transfer(*next, false);
    if (aborting_) {
      check_abort(yielding || blocking);
      return;
    }
  }
  count_step(what, object, true);
}

void Runtime::event_inline(const char* what, const void* object, bool may_unwind) {
  beat();
  if (aborting_) {
    check_abort(may_unwind);
    return;
  }
  count_step(what, object, false);
}

void Runtime::foldable_inline(const char* what, bool yielding) {
  FiberState& f = fibers_[current_];
  if (f.folded || aborting_) {
    schedule_inline(what, nullptr, yielding);
    return;
  }
  f.folded = true;
  if (yielding && chooser_.prioritizing()) chooser_.deprioritize(current_);
  event_inline(what, nullptr, yielding);
}

}  // namespace interleave::detail::model
