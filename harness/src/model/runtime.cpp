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

#include "interleave/contract.h"

namespace interleave::detail::model {

namespace {
thread_local Runtime* current_runtime = nullptr;
std::atomic<bool> g_race_detector{true};
std::atomic<std::uint64_t> g_executions{0};  // numbers executions across all runtimes
std::atomic<const ThreadStorageHooks*> g_thread_storage{nullptr};
}  // namespace

thread_local OperationStack* current_operations = nullptr;
thread_local int runtime_depth = 0;

namespace {
// switch_fiber, keeping the switching fiber's runtime_depth for when it is resumed.
void switch_keeping_depth(ExecutionContext& from, ExecutionContext& to, bool synchronizing) {
  const int depth = get_runtime_depth();
  switch_fiber(from, to, synchronizing);
  set_runtime_depth(depth);
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// Runtime

Runtime::Runtime(std::size_t stack_bytes) : stack_bytes_(stack_bytes) {}

Runtime::~Runtime() = default;

Outcome Runtime::run(const ScheduleId& id, const std::function<void()>& body, bool full_trace,
                     std::vector<Choice>* record) {
  if (current_runtime != nullptr) {
    throw std::logic_error("interleave: explore() was called from inside an exploration; nesting is not supported");
  }
  IgnoreScope ignore;
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
  execution_ = g_executions.fetch_add(1, std::memory_order_relaxed) + 1;
  const bool reports = g_race_detector.load(std::memory_order_relaxed);
  detector_.begin(weak_ || reports, reports, id.store_history);
  detector_.on_spawn(0, -1);

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
  if (PooledFiber* first = attach_pool_fiber(0)) switch_keeping_depth(ThreadContext::current(), *first->fiber, true);
  // Every fiber has ended, joined or not (one left unjoined is torn down): their ends happen
  // before the next schedule, whose fibers reuse the same stacks and object addresses.
  for (std::uint32_t i = 0; i < fibers_.size(); ++i) tsan_acquire(&fibers_token(i));
  switch_thread_storage(current_, kOsThread);
  heartbeat_.running.store(false, std::memory_order_relaxed);
  current_runtime = nullptr;
  current_operations = nullptr;
  chooser_.record_into(nullptr);
  if (failure_) resolve_code_locations();  // the trace's sites of instrumented code

  Outcome outcome;
  outcome.failure = std::move(failure_);
  outcome.steps = steps_;
  outcome.preemptions = preemptions_;
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
  if (runnable_.size() == 1 && !chooser_.tracking()) return runnable_.front();
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

void Runtime::record(const char* what, const void* object) {
  if (aborting_) return;  // teardown after a failure is not part of the schedule
  sequence_.push_back(current_);
  if (fingerprint_size_ < fingerprint_points_.size()) [[unlikely]] {
    const OperationFrame* outer = fibers_[current_].operations.outermost();
    fingerprint_points_[fingerprint_size_++] = FingerprintPoint{current_, what, outer ? outer->name : nullptr};
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
  schedule("spawn", nullptr, false);
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
  schedule("join", nullptr, false, true);
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
  detector_.on_join(current_, fiber);
  tsan_acquire(&fibers_token(fiber));
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

// ---------------------------------------------------------------------------------------------
// Entry points used by ModelPlatform.

bool active() noexcept { return current_runtime != nullptr; }

void set_thread_storage_hooks(const ThreadStorageHooks* hooks) noexcept {
  g_thread_storage.store(hooks, std::memory_order_release);
}

std::size_t fingerprint_text_for_signal(char* out, std::size_t capacity) noexcept {
  // No allocation and no formatting library: this runs in a signal handler.
  char text[40];
  std::size_t n = 0;
  const Runtime* rt = current_runtime;
  const TestFingerprint f = rt != nullptr ? rt->fingerprint() : TestFingerprint{};
  if (!f.recorded()) {
    text[n++] = '-';
  } else {
    const auto decimal = [&](std::uint32_t v) {
      char digits[10];
      std::size_t k = 0;
      do {
        digits[k++] = static_cast<char>('0' + v % 10);
        v /= 10;
      } while (v != 0);
      while (k > 0) text[n++] = digits[--k];
    };
    decimal(f.steps);
    text[n++] = '-';
    decimal(f.fibers);
    text[n++] = '-';
    for (int shift = 28; shift >= 0; shift -= 4) text[n++] = "0123456789abcdef"[(f.hash >> shift) & 15U];
  }
  const std::size_t copied = std::min(n, capacity);
  for (std::size_t i = 0; i < copied; ++i) out[i] = text[i];
  return copied;
}

namespace {
Access access_of(AtomicOp op) noexcept {
  return op == AtomicOp::load ? Access::read : op == AtomicOp::store ? Access::write : Access::rmw;
}

Runtime& require_runtime(const char* what) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    std::fprintf(stderr,
                 "interleave: %s on ModelPlatform outside an exploration; ModelPlatform objects are only usable "
                 "inside interleave::explore()\n",
                 what);
    std::abort();
  }
  return *rt;
}
}  // namespace

void step(const char* what, const void* object) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;  // e.g. constructing or destroying a model object outside explore()
  IgnoreScope ignore;
  rt->schedule_inline(what, object, false);
}

void atomic_step(const char* what, const void* object, AtomicShadow& shadow, AtomicOp op, std::memory_order order) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->schedule_inline(what, object, false, false, access_of(op), order);
  rt->atomic_effects(object, shadow, op, order);
}

void atomic_effects(const void* object, AtomicShadow& shadow, AtomicOp op, std::memory_order order) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  try {
    rt->atomic_effects(object, shadow, op, order);
  } catch (...) {
    rt->fail_later(FailureKind::exception, detector_error(std::current_exception()), {});
  }
}

std::uint64_t atomic_read(const void* address, AtomicShadow& shadow, std::uint32_t size, std::memory_order order,
                          const char* what, interleave::source_location where) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, address, size);
    return bits;
  }
  IgnoreScope ignore;
  rt->note_site(where);
  rt->schedule_inline(what, address, false, false, Access::read, order);
  return rt->atomic_read(address, shadow, size, order, what, where);
}

void atomic_write(void* address, AtomicShadow& shadow, std::uint32_t size, std::uint64_t value, std::memory_order order,
                  const char* what, interleave::source_location where) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    std::memcpy(address, &value, size);
    return;
  }
  IgnoreScope ignore;
  rt->note_site(where);
  rt->schedule_inline(what, address, false, false, Access::write, order);
  rt->atomic_write(address, shadow, size, value, order);
}

std::uint64_t atomic_rmw(void* address, AtomicShadow& shadow, std::uint32_t size, std::memory_order order,
                         AtomicUpdate update, const void* context, const char* what,
                         interleave::source_location where) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    std::uint64_t old = 0;
    std::memcpy(&old, address, size);
    const std::uint64_t updated = update(old, context);
    std::memcpy(address, &updated, size);
    return old;
  }
  IgnoreScope ignore;
  rt->note_site(where);
  rt->schedule_inline(what, address, false, false, Access::rmw, order);
  return rt->atomic_rmw(address, shadow, size, order, update, context);
}

bool atomic_compare_exchange(void* address, AtomicShadow& shadow, std::uint32_t size, std::uint64_t& expected,
                             std::uint64_t desired, std::memory_order success, std::memory_order failure, bool weak,
                             const char* what, interleave::source_location where) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    std::uint64_t found = 0;
    std::memcpy(&found, address, size);
    if (found != expected) {
      expected = found;
      return false;
    }
    std::memcpy(address, &desired, size);
    return true;
  }
  IgnoreScope ignore;
  rt->note_site(where);
  rt->schedule_inline(what, address, false, false, Access::rmw, success);
  return rt->atomic_compare_exchange(address, shadow, size, expected, desired, success, failure, weak);
}

void atomic_destroyed(const void* object, AtomicShadow& shadow) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->atomic_destroyed(object, shadow);
}

void fence(std::memory_order order) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->fence(order);
}

void cell_created(CellShadow& shadow, interleave::source_location where) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    shadow = CellShadow{};
    return;
  }
  IgnoreScope ignore;
  rt->cell_created(shadow, where);
}

void cell_access(CellShadow& shadow, bool write, interleave::source_location where) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->cell_access(shadow, write, where);
}

void cell_destroyed(CellShadow& shadow) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->cell_destroyed(shadow);
}

bool set_race_detector(bool on) noexcept { return g_race_detector.exchange(on, std::memory_order_relaxed); }
bool race_detector() noexcept { return g_race_detector.load(std::memory_order_relaxed); }

void yield(const char* what) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->schedule_inline(what, nullptr, true);
}

bool futex_wait(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t expected, std::int64_t deadline_ns) {
  Runtime& rt = require_runtime("a futex wait");
  IgnoreScope ignore;
  return rt.futex_wait(word, shadow, expected, deadline_ns);
}

std::uint32_t futex_wake(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t count) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return 0;
  IgnoreScope ignore;
  return rt->futex_wake(word, shadow, count);
}

std::int64_t now_ns() {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return 0;
  IgnoreScope ignore;
  rt->schedule("clock read", nullptr, false);
  return rt->now();
}

std::uint64_t execution() noexcept {
  const Runtime* rt = current_runtime;
  return rt == nullptr ? 0 : rt->execution();
}

void memory_access(const void* address, std::size_t size, bool write, const void* pc, const void* const* callers,
                   std::size_t depth) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->memory_access(address, size, write, pc, callers, depth);
}

void memory_allocated(const void* address, std::size_t size) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->forget_memory(address, size);
}

void memory_freed(const void* address, std::size_t size, const void* pc, const void* const* callers,
                  std::size_t depth) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->memory_freed(address, size, pc, callers, depth);
}

std::uint32_t current_fiber() noexcept {
  Runtime* rt = current_runtime;
  return rt == nullptr ? 0 : rt->current_fiber();
}

std::uint32_t spawn(std::function<void()> task) {
  Runtime& rt = require_runtime("starting a thread");
  IgnoreScope ignore;
  return rt.spawn(std::move(task));
}

void join(std::uint32_t fiber) {
  Runtime& rt = require_runtime("joining a thread");
  IgnoreScope ignore;
  rt.join(fiber);
}

void name_fiber(std::string_view name) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->names().name_fiber(rt->current_fiber(), name);
}

void name_object(const void* object, std::size_t size, std::string_view name) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->names().name_object(object, size, name);
}

void abandon(std::uint32_t fiber) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->abandon(fiber);
}

void fail(FailureKind kind, std::string message, interleave::source_location where) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) {
    report_contract_violation(message, where);
  }
  rt->fail(kind, std::move(message), where);
}

void abandon_fiber(FailureKind kind, std::string message) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) std::abort();
  rt->abandon_current(kind, std::move(message));
}

void fail_later(FailureKind kind, std::string message, interleave::source_location where) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  rt->fail_later(kind, std::move(message), where);
}

}  // namespace interleave::detail::model
