// The model runtime's side of the race detector: the context it reports in, the races it reports,
// and the release/acquire edges of full traces.
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>

#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "model/runtime.h"
#include "where.h"

namespace interleave::detail::model {

std::string detector_error(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::bad_alloc&) {
    return "out of memory in the race detector";
  } catch (const std::exception& e) {
    return absl::StrCat("the race detector failed: ", e.what());
  } catch (...) {
    return "the race detector failed with an exception of unknown type";
  }
}

Context Runtime::detector_context() const noexcept {
  Context c;
  c.fiber = current_;
  c.step = steps_;
  if (const OperationFrame* outer = fibers_[current_].operations.outermost()) {
    c.operation = outer->name;
    c.operation_where = outer->where;
  }
  return c;
}

void Runtime::report_race(std::string message, interleave::source_location where, bool can_unwind) {
  if (can_unwind && std::uncaught_exceptions() == 0) fail(FailureKind::data_race, std::move(message), where);
  fail_later(FailureKind::data_race, std::move(message), where);
}

void Runtime::report_lifetime_race(std::string message, std::uint32_t other) {
  // An object destroyed under a fiber still running that nobody joined: the missing join is the
  // bug to report (the race is how it shows). A finished, unjoined fiber's use is a plain
  // lifetime race.
  if (other != 0 && other < fibers_.size() && !fibers_[other].joined && fibers_[other].status != Status::finished) {
    fail_later(FailureKind::unjoined_fiber,
               absl::StrCat("fiber ", other,
                            " was still running, never joined, when an object it used was destroyed (join every ",
                            "thread before destroying what it uses)\n    ", message),
               {});
    return;
  }
  report_race(std::move(message), {}, false);
}

std::string Runtime::describe_step(std::uint32_t fiber, std::uint64_t step) const {
  if (!full_trace_) return {};
  // The trace is in step order, and events after a scheduling point share its number: the
  // point's own entry is the earliest one of that fiber with that number.
  const TraceEntry* found = nullptr;
  for (auto it = trace_.rbegin(); it != trace_.rend() && it->step >= step; ++it) {
    if (it->step == step && it->fiber == fiber) found = &*it;
  }
  if (found == nullptr) return {};
  std::string d = found->what;
  if (found->operation != nullptr) absl::StrAppend(&d, " in ", found->operation);
  const std::string at = location_text(found->where);
  if (!at.empty()) absl::StrAppend(&d, " at ", at);
  return d;
}

void Runtime::atomic_destroyed(const void* object, AtomicShadow& shadow) noexcept {
  if (full_trace_) release_heads_.erase(object);  // a new object at this address starts clean
  try {
    const auto describe = [this](std::uint32_t fiber, std::uint64_t step) { return describe_step(fiber, step); };
    if (aborting_) {
      (void)detector_.on_atomic_destroyed(detector_context(), shadow, describe);  // drops its state
      return;
    }
    std::uint32_t other = 0;
    if (auto race = detector_.on_atomic_destroyed(detector_context(), shadow, describe, &other)) {
      if (full_trace_)
        absl::StrAppend(&*race, "\n    (the object is #", ObjectNumbers(trace_).of(object),
                        names_.object_suffix(object), " in the steps below)");
      report_lifetime_race(std::move(*race), other);
    }
  } catch (...) {
    fail_later(FailureKind::exception, detector_error(std::current_exception()), {});
  }
}

void Runtime::record_release_acquire(const void* object, AtomicOp op, std::memory_order order) {
  // Called right after the operation's own scheduling point, so trace_.back() is its entry. The
  // model runs operations sequentially consistently: a load reads the last write, and whether it
  // synchronizes depends on the release sequence that write belongs to (C++20: a release
  // store/RMW and the RMWs after it; a plain store ends it). Fences are not drawn.
  if (trace_.empty() || trace_.back().fiber != current_) return;
  const std::size_t entry = trace_.size() - 1;
  const bool acquires =
      op != AtomicOp::store && (order == std::memory_order_acquire || order == std::memory_order_consume ||
                                order == std::memory_order_acq_rel || order == std::memory_order_seq_cst);
  const bool releases =
      op != AtomicOp::load &&
      (order == std::memory_order_release || order == std::memory_order_acq_rel || order == std::memory_order_seq_cst);
  if (acquires) {
    const auto it = release_heads_.find(object);
    if (it != release_heads_.end() && it->second.fiber != current_ &&
        std::find(it->second.acquired_by.begin(), it->second.acquired_by.end(), current_) ==
            it->second.acquired_by.end()) {
      edges_.push_back(TraceEdge{it->second.entry, entry, EdgeKind::release_acquire});
      it->second.acquired_by.push_back(current_);
    }
  }
  if (releases) {
    ReleaseHead& head = release_heads_[object];
    head.entry = entry;
    head.fiber = current_;
    head.acquired_by.clear();
  } else if (op == AtomicOp::store) {
    release_heads_.erase(object);
  }
}

void Runtime::fence(std::memory_order order) {
  schedule("atomic fence", nullptr, false);
  if (aborting_) return;
  detector_.on_fence(current_, order);
}

void Runtime::cell_created(CellShadow& shadow, interleave::source_location where) noexcept {
  try {
    detector_.on_cell_created(detector_context(), shadow, where);
  } catch (...) {
    fail_later(FailureKind::exception, detector_error(std::current_exception()), {});
  }
}

void Runtime::cell_access(CellShadow& shadow, bool write, interleave::source_location where) {
  if (aborting_ || detector_.same_epoch(shadow, current_, write)) return;
  // A report's run keeps each access with the user's frames that led to it.
  if (full_trace_) where = chained_site(where);
  if (auto race = detector_.on_cell_access(detector_context(), shadow, write, where)) {
    // The name of the object holding the cell, after "data race on a Shared<T> cell".
    const std::string holder = names_.holder(&shadow);
    const std::size_t colon = race->find(':');
    if (!holder.empty() && colon != std::string::npos) race->insert(colon, absl::StrCat(" in \"", holder, "\""));
    report_race(std::move(*race), where, true);
  }
}

void Runtime::cell_destroyed(CellShadow& shadow) noexcept {
  if (aborting_) return;
  try {
    std::uint32_t other = 0;
    if (auto race = detector_.on_cell_destroyed(detector_context(), shadow, &other)) {
      report_lifetime_race(std::move(*race), other);
    }
  } catch (...) {
    fail_later(FailureKind::exception, detector_error(std::current_exception()), {});
  }
}

}  // namespace interleave::detail::model
