// Teardown: the end of a schedule's body, a fiber left running or unjoined, and the unwinding of
// fibers when a schedule is abandoned.
#include <absl/strings/str_cat.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include "model/runtime.h"

namespace interleave::detail::model {

namespace {

// Whether std::terminate was called for the teardown's own Aborted, stopped by a noexcept function
// (a destructor that reaches a scheduling point, such as a std::lock_guard's unlock; in std mode
// also sched_yield, clock_gettime, sem_post, the futex syscall, or a noexcept caller of them such
// as std::this_thread::yield): the C++ runtime may call std::terminate without unwinding at all,
// so the runtime's own scope is still counted (in_runtime()) although the fiber is the test's.
bool aborted_through_noexcept() noexcept {
  const std::exception_ptr thrown = std::current_exception();
  if (!thrown) return false;
  try {
    std::rethrow_exception(thrown);
  } catch (const Aborted&) {
    return true;
  } catch (...) {
  }
  return false;
}

// std::terminate on a fiber (an exception through a noexcept function, often the teardown's
// Aborted reaching a scheduling point inside a destructor; in std mode also a joinable std::thread
// destroyed): the fiber is abandoned where it stands, and the failure reported (the first failure
// of the schedule, when the teardown caused it), instead of ending the process. Inside the
// runtime's own code only the teardown's Aborted is (anything else is the runtime's bug, and ends
// the process).
std::terminate_handler previous_terminate = nullptr;

[[noreturn]] void on_terminate() {
  if (active() && (!in_runtime() || aborted_through_noexcept())) {
    abandon_fiber(FailureKind::contract_violation,
                  absl::StrCat("std::terminate was called in fiber ", current_fiber(),
                               ": an exception thrown through a noexcept function, or a std::thread destroyed "
                               "while joinable (neither joined nor detached)"));
  }
  if (previous_terminate != nullptr) previous_terminate();
  std::abort();
}

// Installed when the harness is linked (this file always is: Runtime::abandon_current is here).
const bool terminate_installed = [] {
  previous_terminate = std::set_terminate(&on_terminate);
  return true;
}();

}  // namespace

void Runtime::check_all_joined() {
  for (std::uint32_t i = 1; i < fibers_.size(); ++i) {
    const FiberState& f = fibers_[i];
    if (f.status != Status::finished) {
      record_failure(FailureKind::unjoined_fiber,
                     absl::StrCat("the body returned while fiber ", i, " was still running (start/join every thread)"),
                     {});
      aborting_ = true;
      return;
    }
    if (!f.joined) {
      record_failure(FailureKind::unjoined_fiber, absl::StrCat("fiber ", i, " finished but was never joined"), {});
      return;
    }
  }
}

bool Runtime::has_live_fibers() const noexcept {
  return std::any_of(fibers_.begin(), fibers_.end(), [](const FiberState& f) { return f.status != Status::finished; });
}

std::optional<std::uint32_t> Runtime::next_to_tear_down() {
  // Fibers that never ran are dropped without running. The others are resumed so they unwind
  // (their scheduling point throws Aborted): newest first, because a fiber's stack may hold objects
  // that the fibers it started still use; a fiber waiting in a join for one still unwinding waits.
  for (auto& f : fibers_) {
    if (f.status == Status::not_started) {
      f.task = nullptr;
      f.status = Status::finished;
    }
  }
  std::optional<std::uint32_t> fallback;
  for (std::uint32_t i = static_cast<std::uint32_t>(fibers_.size()); i-- > 0;) {
    const FiberState& f = fibers_[i];
    if (f.status == Status::finished) continue;
    if (!fallback) fallback = i;
    const bool waits_for_unwinding = (f.status == Status::blocked && f.blocked_on == BlockedOn::join &&
                                      fibers_[f.join_target].status != Status::finished) ||
                                     f.waits_in_teardown;
    if (!waits_for_unwinding) return i;
  }
  return fallback;
}

void Runtime::join_during_teardown(std::uint32_t fiber) {
  check_abort(true);  // a fiber not yet unwinding starts to; its destructors then join here
  if (fiber >= fibers_.size() || fiber == current_) return;
  // Let the joined fiber unwind first: it may still use objects this fiber's stack is about to
  // destroy.
  while (fibers_[fiber].status != Status::finished) {
    if (fibers_[fiber].status == Status::not_started) {
      fibers_[fiber].task = nullptr;
      fibers_[fiber].status = Status::finished;
      break;
    }
    FiberState& me = fibers_[current_];
    me.status = Status::blocked;
    me.blocked_on = BlockedOn::join;
    me.join_target = fiber;
    transfer(fiber, false);
  }
  fibers_[current_].status = Status::runnable;
  fibers_[current_].blocked_on = BlockedOn::nothing;
  fibers_[fiber].joined = true;
  tsan_acquire(&fibers_token(fiber));
}

void Runtime::abandon_current(FailureKind kind, std::string message) noexcept {
  set_runtime_depth(get_runtime_depth() + 1);  // the IgnoreScope of finish_current's own, which never returns
  tsan_ignore_begin();
  if (!aborting_) {
    record_failure(kind, std::move(message), {});
    aborting_ = true;
  }
  fibers_[current_].pooled->abandoned = true;
  finish_current();  // switches away for good: the pool fiber restarts from its entry when reused
  std::abort();
}

void Runtime::abandon(std::uint32_t fiber) noexcept {
  if (fiber < fibers_.size()) fibers_[fiber].joined = true;  // reported here, not again at the end
  if (aborting_) return;
  fail_later(FailureKind::unjoined_fiber,
             absl::StrCat("a thread handle for fiber ", fiber, " was destroyed without join"), {});
}

}  // namespace interleave::detail::model
