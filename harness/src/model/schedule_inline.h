// Runtime::schedule_inline: one scheduling point, defined here so that the entry points of the
// common operations (platform_entry_points.cpp) and the runtime itself inline it.
#pragma once

#include <absl/strings/str_cat.h>

#include "model/runtime.h"

namespace interleave::detail::model {

void Runtime::schedule_inline(const char* what, const void* object, bool yielding, bool blocking, Access access,
                              std::memory_order order) {
  beat();
  if (aborting_) {
    check_abort(yielding || blocking);
    return;
  }
  chooser_.note_pending(current_, PendingOp{what, object, access, order});
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
  record(what, object);
}

}  // namespace interleave::detail::model
