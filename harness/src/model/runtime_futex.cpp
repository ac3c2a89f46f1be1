// The futex model: a wait blocks its fiber until a wake picks it (the strategy picks which
// waiters, and whether a wait returns spuriously), or its deadline passes on the virtual clock;
// a wait while unwinding lets the fibers still to unwind go first.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "model/runtime.h"

namespace interleave::detail::model {

bool Runtime::futex_wait(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t expected,
                         std::int64_t deadline_ns) {
  schedule("futex wait", word, false, true, Access::read);
  if (aborting_) return wait_during_teardown(word, expected);
  detector_.on_atomic_use(current_, steps_, shadow);
  if (weak_) detector_.observe_newest(current_, shadow, *word);
  if (*word != expected) return true;
  if (deadline_ns >= 0 && deadline_ns <= now_ns_) return false;
  if (chooser_.spurious_wakeup(current_)) {
    record("spurious wake-up", word);
    return true;
  }
  FiberState& me = fibers_[current_];
  // A report's run: should the fiber never wake, the deadlock report names the user's frames that
  // led to its wait (read from its stack now; a step costs no stack walk otherwise).
  if (full_trace_) me.last_site = chained_site(me.last_site);
  me.status = Status::blocked;
  me.blocked_on = BlockedOn::futex;
  me.wait_word = word;
  me.deadline_ns = deadline_ns;
  me.timed_out = false;
  me.woken_by = SIZE_MAX;
  remove_runnable(current_);
  block_current();
  if (aborting_) {
    check_abort(true);
    return true;
  }
  const bool timed_out = fibers_[current_].timed_out;
  fibers_[current_].timed_out = false;
  if (!timed_out) detector_.on_woken(current_);  // the wake happens-before the wait's return
  record(timed_out ? "wait timed out" : "woken", word);
  if (full_trace_ && !timed_out && fibers_[current_].woken_by != SIZE_MAX) {
    edges_.push_back(TraceEdge{fibers_[current_].woken_by, trace_.size() - 1, EdgeKind::wake});
  }
  return !timed_out;
}

bool Runtime::wait_during_teardown(const std::uint32_t* word, std::uint32_t expected) {
  // Only a fiber that is already unwinding gets here (the scheduling point unwinds the others):
  // a destructor of its, say a lock re-taken by a condition variable's wait, waits for a word
  // that a fiber still to unwind will change (by unlocking). Let the others unwind first; the
  // caller re-checks, as after a spurious wake-up. If none can, the caller's retries are bounded
  // by check_abort.
  if (*word != expected) return true;
  FiberState& me = fibers_[current_];
  me.waits_in_teardown = true;
  std::optional<std::uint32_t> other;
  for (std::uint32_t i = static_cast<std::uint32_t>(fibers_.size()); i-- > 0;) {
    const FiberState& f = fibers_[i];
    if (i == current_ || f.status == Status::finished || f.status == Status::not_started || f.waits_in_teardown) {
      continue;
    }
    if (f.status == Status::blocked && f.blocked_on == BlockedOn::join && f.join_target == current_) continue;
    other = i;
    break;
  }
  if (other) transfer(*other, false);
  fibers_[current_].waits_in_teardown = false;
  return true;
}

std::uint32_t Runtime::futex_wake(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t count) {
  schedule("futex wake", word, false, false, Access::write);
  if (aborting_) return 0;
  detector_.on_atomic_use(current_, steps_, shadow);
  waiters_.clear();
  for (std::uint32_t i = 0; i < fibers_.size(); ++i) {
    const FiberState& f = fibers_[i];
    if (f.status == Status::blocked && f.blocked_on == BlockedOn::futex && f.wait_word == word) waiters_.push_back(i);
  }
  // The kernel promises no order among waiters: let the strategy pick which ones wake.
  std::uint32_t woken = 0;
  while (count > 0 && !waiters_.empty()) {
    const std::size_t k = waiters_.size() == 1 ? 0 : chooser_.pick_waiter(waiters_, current_);
    FiberState& f = fibers_[waiters_[k]];
    f.blocked_on = BlockedOn::nothing;
    f.wait_word = nullptr;
    f.deadline_ns = -1;
    if (full_trace_) f.woken_by = trace_.size() - 1;  // this wake's own entry
    detector_.on_wake(current_, waiters_[k]);
    make_runnable(waiters_[k]);
    waiters_.erase(waiters_.begin() + static_cast<std::ptrdiff_t>(k));
    --count;
    ++woken;
  }
  return woken;
}

}  // namespace interleave::detail::model
