// The model runtime: runs one execution of a test body as fibers on the calling OS thread, making
// every scheduling decision through a strategy, and records what happened.
#include "model/runtime.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "model/schedule_inline.h"

namespace interleave::detail::model {

constinit thread_local Runtime* current_runtime = nullptr;
constinit thread_local std::uint64_t current_execution = 0;

namespace {
std::atomic<std::uint64_t> g_executions{0};  // numbers executions across all runtimes
std::atomic<const ThreadStorageHooks*> g_thread_storage{nullptr};
}  // namespace

thread_local OperationStack* current_operations = nullptr;
thread_local int runtime_depth = 0;
thread_local void* fiber_hook_data = nullptr;

namespace {
// switch_fiber, keeping the switching fiber's runtime_depth and fiber_hook_data for when it is
// resumed.
void switch_keeping_depth(ExecutionContext& from, ExecutionContext& to, bool synchronizing) {
  const int depth = get_runtime_depth();
  void* const hook_data = get_fiber_hook_data();
  switch_fiber(from, to, synchronizing);
  set_runtime_depth(depth);
  set_fiber_hook_data(hook_data);
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// Runtime

Runtime::Runtime(std::size_t stack_bytes) : stack_bytes_(stack_bytes) {}

Runtime::~Runtime() = default;

void Runtime::begin_run(const ScheduleId& id, bool full_trace, std::vector<Choice>* record) {
  chooser_.begin(id);
  if (record != nullptr) record->clear();
  chooser_.record_into(record);
  max_steps_ = id.max_steps;
  fibers_.clear();
  runnable_.clear();
  runnable_.push_back(0);
  trace_.clear();
  sequence_.clear();
  fingerprint_size_ = 0;
  edges_.clear();
  release_heads_.clear();
  names_.clear();
  stale_reads_.clear();
  weak_ = id.memory_model == MemoryModel::weak;
  full_trace_ = full_trace;
  steps_ = 0;
  preemptions_ = 0;
  preempted_ = UINT32_MAX;
  now_ns_ = 0;
  aborting_ = false;
  abort_spins_ = 0;
  failure_.reset();
  releasing_ = nullptr;
  memory_.clear();
  ++memory_generation_;
  execution_ = g_executions.fetch_add(1, std::memory_order_relaxed) + 1;
  const bool reports = race_detector();
  detector_.begin(weak_ || reports, reports, id.store_history);
  detector_.on_spawn(0, -1);
}

Outcome Runtime::run(const ScheduleId& id, const std::function<void()>& body, bool full_trace,
                     std::vector<Choice>* record) {
  if (current_runtime != nullptr) {
    throw std::logic_error("interleave: explore() was called from inside an exploration; nesting is not supported");
  }
  IgnoreScope ignore;
  begin_run(id, full_trace, record);

  FiberState main;
  main.task = body;
  fibers_.push_back(std::move(main));
  chooser_.on_spawn(0);
  current_ = kOsThread;
  set_current(0);
  heartbeat_.step.store(0, std::memory_order_relaxed);
  heartbeat_.what.store(nullptr, std::memory_order_relaxed);
  beat();
  heartbeat_.running.store(true, std::memory_order_relaxed);
  current_runtime = this;
  current_execution = execution_;
  if (PooledFiber* first = attach_pool_fiber(0)) switch_keeping_depth(ThreadContext::current(), *first->fiber, true);
  // Every fiber has ended, joined or not (one left unjoined is torn down): their ends happen
  // before the next schedule, whose fibers reuse the same stacks and object addresses.
  for (std::uint32_t i = 0; i < fibers_.size(); ++i) tsan_acquire(&fibers_token(i));
  switch_thread_storage(current_, kOsThread);
  heartbeat_.running.store(false, std::memory_order_relaxed);
  current_runtime = nullptr;
  current_execution = 0;
  current_operations = nullptr;
  chooser_.record_into(nullptr);
  if (failure_) resolve_code_locations();  // the trace's sites of instrumented code

  Outcome outcome;
  outcome.failure = std::move(failure_);
  outcome.steps = steps_;
  outcome.preemptions = preemptions_;
  outcome.choice_points = chooser_.choice_points();
  outcome.fiber_choice_points = &chooser_.fiber_choice_points();
  outcome.trace = &trace_;
  outcome.sequence = &sequence_;
  outcome.edges = &edges_;
  outcome.names = &names_;
  outcome.stale_reads = &stale_reads_;
  outcome.memory_model = id.memory_model;
  return outcome;
}

PooledFiber* Runtime::attach_pool_fiber(std::uint32_t fiber_id) noexcept {
  for (auto& pooled : pool_) {
    if (!pooled->busy && pooled.get() != releasing_) {
      if (pooled->abandoned) {
        pooled->fiber->reset(&Runtime::fiber_entry, pooled.get());  // start afresh, not where it was left
        pooled->abandoned = false;
      }
      pooled->busy = true;
      fibers_[fiber_id].pooled = pooled.get();
      return pooled.get();
    }
  }
  try {
    auto pooled = std::make_unique<PooledFiber>();
    pooled->runtime = this;
    pooled->fiber = std::make_unique<Fiber>(stack_bytes_);
    pooled->fiber->reset(&Runtime::fiber_entry, pooled.get());
    pooled->busy = true;
    pool_.push_back(std::move(pooled));
  } catch (const std::exception& e) {
    // Usually the process's limit on memory mappings (vm.max_map_count; a stack is two: the
    // guard and the stack) or on address space (ulimit -v). The schedule fails with the cause;
    // the fibers that did start are torn down as after any failure.
    std::uint32_t alive = 0;
    for (const FiberState& f : fibers_) alive += f.status == Status::runnable || f.status == Status::blocked ? 1 : 0;
    std::string map_limit = "a limit";
    if (std::FILE* in = std::fopen("/proc/sys/vm/max_map_count", "r")) {
      unsigned long count = 0;
      if (std::fscanf(in, "%lu", &count) == 1) map_limit = absl::StrCat(count, ": vm.max_map_count");
      std::fclose(in);
    }
    fail_later(FailureKind::resources_exhausted,
               absl::StrCat("fiber ", fiber_id, " could not be started: ", e.what(), "; ", alive,
                            " fibers are alive in this schedule, and this thread has ", pool_.size(),
                            " fiber stacks of ", stack_bytes_ / 1024,
                            " KiB mapped. Each stack takes two memory mappings (the process may have ", map_limit,
                            ") and its size in address space (ulimit -v): start fewer threads at once, or lower "
                            "INTERLEAVE_STACK_KIB"),
               {});
    return nullptr;
  }
  fibers_[fiber_id].pooled = pool_.back().get();
  return pool_.back().get();
}

bool Runtime::start_on_pool_fiber(std::uint32_t fiber_id) noexcept {
  if (attach_pool_fiber(fiber_id) == nullptr) return false;
  fibers_[fiber_id].status = Status::runnable;
  return true;
}

void Runtime::fiber_entry(void* argument) {
  auto* pooled = static_cast<PooledFiber*>(argument);
  for (;;) pooled->runtime->run_current_task();
}

void Runtime::run_current_task() {
  std::function<void()> task;
  std::uint32_t me = 0;
  {
    IgnoreScope ignore;
    me = current_;
    beat();
    task = std::move(fibers_[me].task);
    fibers_[me].status = Status::runnable;
  }
  tsan_acquire(&fibers_token(me));  // thread start: the spawner's prior writes are visible
  set_runtime_depth(0);             // the task is the test's code (a new fiber starts at its switcher's depth)
  set_fiber_hook_data(nullptr);     // likewise: not the switcher's data
  try {
    task();
    if (me != 0) {
      if (const ThreadStorageHooks* hooks = g_thread_storage.load(std::memory_order_acquire)) hooks->thread_exit(me);
    }
  } catch (const Aborted&) {
    // Teardown after a failure: nothing to record.
  } catch (const std::exception& e) {
    IgnoreScope ignore;
    record_failure(FailureKind::exception, absl::StrCat("uncaught exception in fiber ", me, ": ", e.what()), {});
  } catch (...) {
    IgnoreScope ignore;
    if (std::optional<std::string> assertion = describe_foreign_assertion(std::current_exception())) {
      record_failure(FailureKind::assertion, absl::StrCat(*assertion, " (in fiber ", me, ")"), {});
    } else {
      record_failure(FailureKind::exception, absl::StrCat("uncaught exception of unknown type in fiber ", me), {});
    }
  }
  task = nullptr;                   // the task's captured state is destroyed by its own fiber
  tsan_release(&fibers_token(me));  // thread finish: visible to whoever joins
  finish_current();
}

void Runtime::finish_current() {
  IgnoreScope ignore;  // ends when this pool fiber is resumed for its next task
  const std::uint32_t me = current_;
  if (probe_ && !aborting_) {
    std::string found = probe_();
    if (!found.empty()) {
      record_failure(FailureKind::assertion, std::move(found), {});
      aborting_ = true;
    }
  }
  FiberState& f = fibers_[me];
  f.status = Status::finished;
  f.operations.depth = 0;
  remove_runnable(me);
  record("finish", nullptr);
  for (std::uint32_t i = 0; i < fibers_.size(); ++i) {
    FiberState& other = fibers_[i];
    if (other.status == Status::blocked && other.blocked_on == BlockedOn::join && other.join_target == me) {
      other.blocked_on = BlockedOn::nothing;
      make_runnable(i);
    }
  }
  if (me == 0 && !aborting_) check_all_joined();

  PooledFiber& mine = *f.pooled;
  forget_memory(mine.fiber->stack_bottom(), mine.fiber->stack_size());  // the next fiber on it starts clean
  mine.busy = false;
  releasing_ = &mine;  // still running until the switch below: not attachable before then
  f.pooled = nullptr;

  std::optional<std::uint32_t> next;
  if (aborting_) {
    next = next_to_tear_down();
  } else {
    next = pick_next(false);
    if (!next && has_live_fibers()) {
      report_deadlock();
      next = next_to_tear_down();
    }
  }
  // This fiber now parks until its pool slot gets a new task, possibly for good (the pool is
  // destroyed with its fibers parked here): TSan must not see it parked with ignores enabled.
  ExecutionContext* destination = &ThreadContext::current();
  if (next && fibers_[*next].status == Status::not_started && !start_on_pool_fiber(*next)) {
    next = next_to_tear_down();  // aborting now: fibers that never ran are dropped, not started
  }
  if (next) {
    FiberState& target = fibers_[*next];
    set_current(*next);
    destination = target.pooled->fiber.get();
  }
  // Only the hand-back to the OS thread synchronizes: between fibers, thread start and join are
  // the happens-before edges (see run_current_task and join), and a switch is none.
  tsan_ignore_end();
  switch_keeping_depth(*mine.fiber, *destination, !next.has_value());
  tsan_ignore_begin();
  // Resumed later with a new task: the entry loop calls run_current_task again.
}

void set_thread_storage_hooks(const ThreadStorageHooks* hooks) noexcept {
  g_thread_storage.store(hooks, std::memory_order_release);
}

void Runtime::switch_thread_storage(std::uint32_t from, std::uint32_t to) noexcept {
  const std::uint32_t saving = from == kOsThread ? 0 : from;
  const std::uint32_t restoring = to == kOsThread ? 0 : to;
  if (saving != restoring && saving < fibers_.size() && restoring < fibers_.size()) {
    fibers_[saving].saved_errno = errno;
    errno = fibers_[restoring].saved_errno;
  }
  if (const ThreadStorageHooks* hooks = g_thread_storage.load(std::memory_order_acquire)) {
    hooks->switch_threads(from, to);
  }
}

void Runtime::transfer(std::uint32_t to, bool synchronizing) {
  Fiber& from = *fibers_[current_].pooled->fiber;
  FiberState& target = fibers_[to];
  if (target.status == Status::not_started) [[unlikely]] {
    if (!start_on_pool_fiber(to)) return;  // the failure is recorded: the caller sees aborting_
  }
  set_current(to);
  switch_keeping_depth(from, *target.pooled->fiber, synchronizing);
}

std::optional<std::uint32_t> Runtime::pick_next(bool current_runnable) {
  if (runnable_.empty()) {
    advance_time();
    if (runnable_.empty()) return std::nullopt;
  }
  if (runnable_.size() == 1 && !chooser_.tracking() && !chooser_.every_pick()) return runnable_.front();
  return chooser_.pick_fiber(runnable_, current_, current_runnable, steps_);
}

void Runtime::make_runnable(std::uint32_t fiber) {
  FiberState& f = fibers_[fiber];
  if (f.status == Status::blocked) f.status = Status::runnable;
  if (std::find(runnable_.begin(), runnable_.end(), fiber) == runnable_.end()) runnable_.push_back(fiber);
}

void Runtime::remove_runnable(std::uint32_t fiber) {
  const auto it = std::find(runnable_.begin(), runnable_.end(), fiber);
  if (it != runnable_.end()) runnable_.erase(it);
}

void Runtime::advance_time() {
  std::int64_t earliest = -1;
  for (const auto& f : fibers_) {
    if (f.status == Status::blocked && f.deadline_ns >= 0 && (earliest < 0 || f.deadline_ns < earliest)) {
      earliest = f.deadline_ns;
    }
  }
  if (earliest < 0) return;
  now_ns_ = std::max(now_ns_, earliest);
  for (std::uint32_t i = 0; i < fibers_.size(); ++i) {
    FiberState& f = fibers_[i];
    if (f.status == Status::blocked && f.deadline_ns >= 0 && f.deadline_ns <= now_ns_) {
      f.blocked_on = BlockedOn::nothing;
      f.timed_out = true;
      make_runnable(i);
    }
  }
}

void Runtime::record(const char* what, const void* object, bool choice) {
  if (aborting_) return;  // teardown after a failure is not part of the schedule
  sequence_.push_back(current_);
  if (fingerprint_size_ < fingerprint_points_.size()) [[unlikely]] {
    const OperationFrame* outer = fibers_[current_].operations.outermost();
    fingerprint_points_[fingerprint_size_++] = FingerprintPoint{current_, what, outer ? outer->name : nullptr, choice};
  }
  if (!full_trace_) return;
  FiberState& f = fibers_[current_];
  const interleave::source_location own_site = std::exchange(f.pending_site, {});
  TraceEntry e;
  e.step = steps_;
  e.fiber = current_;
  e.what = what;
  e.object = object;
  e.now_ns = now_ns_;
  e.preempted = std::exchange(preempted_, UINT32_MAX);
  if (const OperationFrame* outer = f.operations.outermost()) {
    e.operation = outer->name;
    e.operation_object = outer->object;
    e.where = outer->where;
  } else {
    e.where = own_site;
  }
  // A step reached through a standard library header (Mutex::lock from std::lock_guard) is shown
  // at the user's line that led there.
  if (e.where.line() != 0 && library_site(e.where)) e.where = user_call_site();
  f.last_site = e.where;
  trace_.push_back(e);
}

void Runtime::check_abort(bool blocking) {
  // During teardown operations run without scheduling. A fiber that is not already unwinding
  // starts to; one that is (a destructor running) is left alone. So is one in the middle of a
  // primitive's operation at a point that cannot block: it may be inside a destructor (a
  // lock_guard's unlock), where throwing would terminate; it finishes the operation and unwinds
  // at its next scheduling point outside one, or at a blocking one.
  if (std::uncaught_exceptions() == 0 && (blocking || fibers_[current_].operations.depth == 0)) throw Aborted{};
  if (++abort_spins_ > 1'000'000) {
    // The report is lost with the process: say at least what failed (the fatal-signal handler
    // adds the reproduce line).
    std::fprintf(stderr,
                 "interleave: %s: %s\ninterleave: a fiber kept operating while being torn down after that failure "
                 "(it waits, while unwinding, for something no fiber left can give); giving up\n",
                 failure_ ? std::string(to_string(failure_->kind)).c_str() : "failure",
                 failure_ ? failure_->message.c_str() : "(none recorded)");
    std::abort();
  }
}

void Runtime::schedule(const char* what, const void* object, bool yielding, bool blocking, Access access,
                       std::memory_order order) {
  schedule_inline(what, object, yielding, blocking, access, order);
}
void Runtime::block_current() {
  const auto next = pick_next(false);
  if (!next) {
    report_deadlock();
    throw Aborted{};
  }
  if (*next == current_) return;  // its own deadline passed while everyone else was blocked
  transfer(*next, false);
}

std::uint32_t Runtime::spawn(std::function<void()> task) {
  event_inline("spawn", nullptr, false);
  if (aborting_) throw Aborted{};
  const auto id = static_cast<std::uint32_t>(fibers_.size());
  FiberState f;
  f.task = std::move(task);
  fibers_.push_back(std::move(f));
  set_current(current_);  // the vector may have moved
  runnable_.push_back(id);
  chooser_.on_spawn(id);
  detector_.on_spawn(id, current_);
  tsan_release(&fibers_token(id));
  if (full_trace_) trace_.back().spawned = id;
  return id;
}

void Runtime::join(std::uint32_t fiber) {
  if (aborting_) {
    join_during_teardown(fiber);
    return;
  }
  event_inline("join", nullptr, true);
  if (aborting_) {
    join_during_teardown(fiber);
    return;
  }
  if (full_trace_) trace_.back().spawned = fiber;
  if (fiber >= fibers_.size() || fiber == current_) {
    fail(FailureKind::contract_violation,
         absl::StrCat("join of fiber ", fiber, " from fiber ", current_, " is invalid"), {});
  }
  while (fibers_[fiber].status != Status::finished) {
    FiberState& me = fibers_[current_];
    me.status = Status::blocked;
    me.blocked_on = BlockedOn::join;
    me.join_target = fiber;
    me.deadline_ns = -1;
    remove_runnable(current_);
    block_current();
    if (aborting_) {
      join_during_teardown(fiber);
      return;
    }
  }
  fibers_[fiber].joined = true;
  chooser_.on_join(current_, fiber);
  detector_.on_join(current_, fiber);
  tsan_acquire(&fibers_token(fiber));
}

}  // namespace interleave::detail::model
