// The model runtime: runs one execution of a test body as fibers on the calling OS thread, making
// every scheduling decision through a strategy, and records what happened.
#include "runtime.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
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
}  // namespace

thread_local OperationStack* current_operations = nullptr;

namespace {

std::string location(const interleave::source_location& where) {
  if (where.line() == 0) return {};
  return absl::StrCat(where.file_name(), ":", where.line());
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// Chooser

void Chooser::begin(const ScheduleId& id) {
  id_ = id;
  decisions_.clear();
  misfit_.reset();
  reached_.assign(id.strategy == Strategy::choices ? id.choices.size() : 0, false);
  std::uint64_t s = id.seed;
  rng_.seed(Xoshiro256::splitmix(s) ^ id.index);
  priorities_.clear();
  change_points_.clear();
  if (id.strategy == Strategy::pct) {
    const std::uint64_t k = std::max<std::uint64_t>(id.pct_step_estimate, 1);
    for (int i = 1; i < id.pct_depth; ++i) change_points_.push_back(1 + below(k));
  }
}

std::uint32_t Chooser::decide(std::uint32_t fiber) {
  if (decisions_.size() <= fiber) decisions_.resize(fiber + 1, 0);
  last_.fiber = fiber;
  last_.decision = decisions_[fiber]++;
  if (id_.strategy != Strategy::choices) return 0;
  const auto& list = id_.choices;
  const auto it = std::lower_bound(list.begin(), list.end(), last_);
  if (it == list.end() || it->fiber != last_.fiber || it->decision != last_.decision) return 0;
  reached_[static_cast<std::size_t>(it - list.begin())] = true;
  return it->value;
}

void Chooser::check_fit(std::uint32_t listed, std::uint32_t positions, const char* decision) {
  if (listed < positions || misfit_) return;
  Choice c = last_;
  c.value = listed;
  misfit_ = Misfit{c, positions, decision};
}

std::optional<Choice> Chooser::unreached_choice() const {
  for (std::size_t i = 0; i < reached_.size(); ++i) {
    if (!reached_[i]) return id_.choices[i];
  }
  return std::nullopt;
}

void Chooser::record(std::uint32_t value) {
  if (record_ == nullptr || value == 0) return;
  Choice c = last_;
  c.value = value;
  record_->push_back(c);
}

void Chooser::on_spawn(std::uint32_t fiber) {
  if (id_.strategy != Strategy::pct) return;
  if (priorities_.size() <= fiber) priorities_.resize(fiber + 1, 0);
  // Initial priorities are above every change-point priority (0 .. depth-2).
  priorities_[fiber] = static_cast<std::uint64_t>(id_.pct_depth) + (rng_.next() >> 2);
}

std::uint32_t Chooser::pick_fiber_tracked(const std::vector<std::uint32_t>& runnable, std::uint32_t current,
                                          bool current_runnable, std::uint64_t step) {
  // Positions: the running fiber first when it can go on, then the other runnable fibers in
  // round-robin order after it. Position 0 is the undisturbed choice; a listed value is a position,
  // so it keeps its meaning (the next other fiber) when which fibers are runnable changes.
  order_.clear();
  if (current_runnable) order_.push_back(current);
  for (std::uint32_t f : runnable) {
    if (f != current) order_.push_back(f);
  }
  const auto rank = [current](std::uint32_t f) { return f > current ? f - current : f + (UINT32_MAX - current); };
  std::sort(order_.begin() + (current_runnable ? 1 : 0), order_.end(),
            [&](std::uint32_t a, std::uint32_t b) { return rank(a) < rank(b); });
  // A fiber that blocked can be runnable again already (its deadline passed while every other
  // fiber was blocked): it comes last.
  if (!current_runnable && std::find(runnable.begin(), runnable.end(), current) != runnable.end()) {
    order_.push_back(current);
  }
  const std::uint32_t listed = decide(current);
  if (listed != 0) check_fit(listed, static_cast<std::uint32_t>(order_.size()), "a pick among the runnable fibers");
  std::uint32_t chosen = order_[listed % order_.size()];
  if (id_.strategy != Strategy::choices) chosen = pick_fiber_by_strategy(runnable, current, current_runnable, step);
  record(static_cast<std::uint32_t>(std::find(order_.begin(), order_.end(), chosen) - order_.begin()));
  return chosen;
}

std::uint32_t Chooser::pick_by_priority(const std::vector<std::uint32_t>& runnable, std::uint32_t current,
                                        bool current_runnable, std::uint64_t step) {
  for (std::size_t j = 0; j < change_points_.size(); ++j) {
    if (change_points_[j] == step && current_runnable && current < priorities_.size()) {
      priorities_[current] = static_cast<std::uint64_t>(change_points_.size() - 1 - j);
    }
  }
  std::uint32_t best = runnable.front();
  for (std::uint32_t f : runnable) {
    if (priorities_[f] > priorities_[best]) best = f;
  }
  return best;
}

void Chooser::deprioritize(std::uint32_t fiber) {
  // A yielding or spinning fiber waits for someone else: under PCT, let every other fiber go first
  // (otherwise a high-priority spin loop starves the fiber it waits for until the step bound).
  // It goes strictly below every other fiber (a tie at priority 0 would let it starve the fiber it
  // waits for).
  if (id_.strategy != Strategy::pct || fiber >= priorities_.size()) return;
  std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t i = 0; i < priorities_.size(); ++i) {
    if (i != fiber) lowest = std::min(lowest, priorities_[i]);
  }
  if (lowest == std::numeric_limits<std::uint64_t>::max()) return;
  if (lowest == 0) {
    for (std::size_t i = 0; i < priorities_.size(); ++i) {
      if (i != fiber) ++priorities_[i];
    }
    lowest = 1;
  }
  priorities_[fiber] = lowest - 1;
}

bool Chooser::spurious_wakeup(std::uint32_t current) {
  const std::uint32_t listed = tracking() ? decide(current) : 0;
  bool spurious = false;
  if (id_.strategy == Strategy::choices) {
    spurious = listed != 0;
    if (listed != 0) check_fit(listed, 2, "whether a futex wait wakes spuriously (1: it does)");
  } else if (id_.spurious_wakeup_permille > 0) {
    spurious = below(1000) < static_cast<std::uint64_t>(id_.spurious_wakeup_permille);
  }
  if (record_ != nullptr) record(spurious ? 1 : 0);
  return spurious;
}

std::size_t Chooser::pick_waiter(const std::vector<std::uint32_t>& waiters, std::uint32_t current) {
  // A position in waiting order: 0, the longest waiter, is the undisturbed choice.
  const std::uint32_t listed = tracking() ? decide(current) : 0;
  if (listed != 0) check_fit(listed, static_cast<std::uint32_t>(waiters.size()), "which waiter a wake picks");
  const std::size_t k = id_.strategy == Strategy::choices ? listed % waiters.size() : below(waiters.size());
  record(static_cast<std::uint32_t>(k));
  return k;
}

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
  full_trace_ = full_trace;
  steps_ = 0;
  preemptions_ = 0;
  now_ns_ = 0;
  aborting_ = false;
  abort_spins_ = 0;
  failure_.reset();
  releasing_ = nullptr;
  detector_.begin(g_race_detector.load(std::memory_order_relaxed));
  detector_.on_spawn(0, -1);

  FiberState main;
  main.task = body;
  fibers_.push_back(std::move(main));
  chooser_.on_spawn(0);
  set_current(0);
  heartbeat_.step.store(0, std::memory_order_relaxed);
  heartbeat_.what.store(nullptr, std::memory_order_relaxed);
  beat();
  heartbeat_.running.store(true, std::memory_order_relaxed);
  current_runtime = this;
  if (PooledFiber* first = attach_pool_fiber(0)) switch_fiber(ThreadContext::current(), *first->fiber, true);
  // Every fiber has ended, joined or not (one left unjoined is torn down): their ends happen
  // before the next schedule, whose fibers reuse the same stacks and object addresses.
  for (std::uint32_t i = 0; i < fibers_.size(); ++i) tsan_acquire(&fibers_token(i));
  heartbeat_.running.store(false, std::memory_order_relaxed);
  current_runtime = nullptr;
  current_operations = nullptr;
  chooser_.record_into(nullptr);

  Outcome outcome;
  outcome.failure = std::move(failure_);
  outcome.steps = steps_;
  outcome.preemptions = preemptions_;
  outcome.trace = &trace_;
  outcome.sequence = &sequence_;
  outcome.edges = &edges_;
  return outcome;
}

PooledFiber* Runtime::attach_pool_fiber(std::uint32_t fiber_id) noexcept {
  for (auto& pooled : pool_) {
    if (!pooled->busy && pooled.get() != releasing_) {
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
  try {
    task();
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
  switch_fiber(*mine.fiber, *destination, !next.has_value());
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

void Runtime::transfer(std::uint32_t to, bool synchronizing) {
  Fiber& from = *fibers_[current_].pooled->fiber;
  FiberState& target = fibers_[to];
  if (target.status == Status::not_started) [[unlikely]] {
    if (!start_on_pool_fiber(to)) return;  // the failure is recorded: the caller sees aborting_
  }
  set_current(to);
  switch_fiber(from, *target.pooled->fiber, synchronizing);
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
  const FiberState& f = fibers_[current_];
  TraceEntry e;
  e.step = steps_;
  e.fiber = current_;
  e.what = what;
  e.object = object;
  e.now_ns = now_ns_;
  if (const OperationFrame* outer = f.operations.outermost()) {
    e.operation = outer->name;
    e.operation_object = outer->object;
    e.where = outer->where;
  }
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

void Runtime::schedule(const char* what, const void* object, bool yielding, bool blocking) {
  schedule_inline(what, object, yielding, blocking);
}

void Runtime::schedule_inline(const char* what, const void* object, bool yielding, bool blocking) {
  beat();
  if (aborting_) {
    check_abort(yielding || blocking);
    return;
  }
  if (yielding && chooser_.prioritizing()) chooser_.deprioritize(current_);
  const auto next = pick_next(true);
  if (next && *next != current_) {
    ++preemptions_;
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

bool Runtime::futex_wait(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t expected,
                         std::int64_t deadline_ns) {
  schedule("futex wait", word, false, true);
  if (aborting_) return wait_during_teardown(word, expected);
  detector_.on_atomic_use(current_, steps_, shadow);
  if (*word != expected) return true;
  if (deadline_ns >= 0 && deadline_ns <= now_ns_) return false;
  if (chooser_.spurious_wakeup(current_)) {
    record("spurious wake-up", word);
    return true;
  }
  FiberState& me = fibers_[current_];
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

void Runtime::futex_wake(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t count) {
  schedule("futex wake", word, false);
  if (aborting_) return;
  detector_.on_atomic_use(current_, steps_, shadow);
  waiters_.clear();
  for (std::uint32_t i = 0; i < fibers_.size(); ++i) {
    const FiberState& f = fibers_[i];
    if (f.status == Status::blocked && f.blocked_on == BlockedOn::futex && f.wait_word == word) waiters_.push_back(i);
  }
  // The kernel promises no order among waiters: let the strategy pick which ones wake.
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
  }
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

void Runtime::abandon(std::uint32_t fiber) noexcept {
  if (fiber < fibers_.size()) fibers_[fiber].joined = true;  // reported here, not again at the end
  if (aborting_) return;
  fail_later(FailureKind::unjoined_fiber,
             absl::StrCat("a thread handle for fiber ", fiber, " was destroyed without join"), {});
}

void Runtime::record_failure(FailureKind kind, std::string message, interleave::source_location where) {
  if (failure_) return;  // the first failure is the one reported
  Failure f;
  f.kind = kind;
  f.message = std::move(message);
  f.where = location(where);
  f.fiber = current_;
  f.step = steps_;
  failure_ = std::move(f);
}

void Runtime::fail(FailureKind kind, std::string message, interleave::source_location where) {
  if (std::uncaught_exceptions() > 0) {
    // Found inside a destructor that runs while its fiber unwinds: it cannot unwind again.
    std::fprintf(stderr, "interleave: %s: %s (at %s) while a fiber was unwinding%s; aborting\n",
                 std::string(to_string(kind)).c_str(), message.c_str(), location(where).c_str(),
                 failure_ ? absl::StrCat(" after ", failure_->message).c_str() : "");
    std::abort();
  }
  record_failure(kind, std::move(message), where);
  aborting_ = true;
  throw Aborted{};
}

void Runtime::fail_later(FailureKind kind, std::string message, interleave::source_location where) noexcept {
  try {
    record_failure(kind, std::move(message), where);
  } catch (...) {
  }
  aborting_ = true;
}

void Runtime::report_deadlock() {
  std::string message = "every live fiber is blocked and no deadline is pending:";
  for (std::uint32_t i = 0; i < fibers_.size(); ++i) {
    const FiberState& f = fibers_[i];
    if (f.status != Status::blocked) continue;
    absl::StrAppend(&message, "\n    fiber ", i, " blocked in ");
    if (const OperationFrame* outer_frame = f.operations.outermost()) {
      const OperationFrame& outer = *outer_frame;
      absl::StrAppend(&message, outer.name, " (object ", object_number(trace_, outer.object), ")");
      if (f.operations.depth > 1) absl::StrAppend(&message, ", inside ", f.operations.innermost()->name);
      const std::string at = location(outer.where);
      if (!at.empty()) absl::StrAppend(&message, " at ", at);
    } else if (f.blocked_on == BlockedOn::join) {
      absl::StrAppend(&message, "join of fiber ", f.join_target);
    } else {
      absl::StrAppend(&message, "futex wait (object ", object_number(trace_, f.wait_word), ")");
    }
  }
  record_failure(FailureKind::deadlock, std::move(message), {});
  aborting_ = true;
}

// ---------------------------------------------------------------------------------------------
// The race detector's hooks

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
  const std::string at = location(found->where);
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
        absl::StrAppend(&*race, "\n    (the object is #", object_number(trace_, object), " in the steps below)");
      report_lifetime_race(std::move(*race), other);
    }
  } catch (...) {
    fail_later(FailureKind::exception, "out of memory in the race detector", {});
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
    fail_later(FailureKind::exception, "out of memory in the race detector", {});
  }
}

void Runtime::cell_access(CellShadow& shadow, bool write, interleave::source_location where) {
  if (aborting_ || detector_.same_epoch(shadow, current_, write)) return;
  if (auto race = detector_.on_cell_access(detector_context(), shadow, write, where)) {
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
    fail_later(FailureKind::exception, "out of memory in the race detector", {});
  }
}

TestFingerprint Runtime::fingerprint(std::uint32_t steps) const noexcept {
  TestFingerprint f;
  f.steps = std::min(steps, fingerprint_size_);
  // FNV-1a (64-bit) over each point's fiber number (4 bytes, little-endian), what and operation
  // (each ended by a NUL): the same bytes on every build and run.
  std::uint64_t h = 14695981039346656037ULL;
  const auto add = [&h](unsigned char byte) {
    h ^= byte;
    h *= 1099511628211ULL;
  };
  for (std::uint32_t i = 0; i < f.steps; ++i) {
    const FingerprintPoint& p = fingerprint_points_[i];
    f.fibers = std::max(f.fibers, p.fiber + 1);
    for (int b = 0; b < 4; ++b) add(static_cast<unsigned char>(p.fiber >> (8 * b)));
    for (const char* c = p.what; *c != '\0'; ++c) add(static_cast<unsigned char>(*c));
    add(0);
    for (const char* c = p.operation != nullptr ? p.operation : ""; *c != '\0'; ++c)
      add(static_cast<unsigned char>(*c));
    add(0);
  }
  f.hash = static_cast<std::uint32_t>(h ^ (h >> 32));
  return f;
}

std::string Runtime::describe_fingerprint(std::uint32_t steps) const {
  // Repeats of one point (a spin loop) are counted, not listed: the message stays short.
  std::string out;
  const std::uint32_t n = std::min(steps, fingerprint_size_);
  for (std::uint32_t i = 0; i < n;) {
    const FingerprintPoint& p = fingerprint_points_[i];
    std::uint32_t same = 1;
    while (i + same < n && fingerprint_points_[i + same].fiber == p.fiber &&
           std::string_view(fingerprint_points_[i + same].what) == p.what &&
           std::string_view(fingerprint_points_[i + same].operation ? fingerprint_points_[i + same].operation : "") ==
               (p.operation ? p.operation : "")) {
      ++same;
    }
    absl::StrAppend(&out, out.empty() ? "" : ", ", "fiber ", p.fiber, " ", p.what,
                    p.operation != nullptr ? absl::StrCat(" in ", p.operation) : std::string(),
                    same > 1 ? absl::StrCat(" (x", same, ")") : std::string());
    i += same;
  }
  return out;
}

std::uint32_t Runtime::object_number(const std::vector<TraceEntry>& trace, const void* object) {
  if (object == nullptr) return 0;
  // Numbered by first appearance in the trace, so the numbers are the same on every replay.
  std::uint32_t next = 1;
  std::vector<const void*> seen;
  for (const auto& e : trace) {
    for (const void* o : {e.operation_object, e.object}) {
      if (o == nullptr) continue;
      if (std::find(seen.begin(), seen.end(), o) == seen.end()) {
        if (o == object) return next;
        seen.push_back(o);
        ++next;
      }
    }
  }
  return next;
}

// ---------------------------------------------------------------------------------------------
// Entry points used by ModelPlatform.

bool active() noexcept { return current_runtime != nullptr; }

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
  rt->schedule_inline(what, object, false);
  rt->atomic_effects(object, shadow, op, order);
}

void atomic_effects(const void* object, AtomicShadow& shadow, AtomicOp op, std::memory_order order) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  try {
    rt->atomic_effects(object, shadow, op, order);
  } catch (...) {
    rt->fail_later(FailureKind::exception, "out of memory in the race detector", {});
  }
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

void futex_wake(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t count) {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  IgnoreScope ignore;
  rt->futex_wake(word, shadow, count);
}

std::int64_t now_ns() {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return 0;
  IgnoreScope ignore;
  rt->schedule("clock read", nullptr, false);
  return rt->now();
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

void fail_later(FailureKind kind, std::string message, interleave::source_location where) noexcept {
  Runtime* rt = current_runtime;
  if (rt == nullptr) return;
  rt->fail_later(kind, std::move(message), where);
}

}  // namespace interleave::detail::model
