// explore(): the loop over schedules, the replay-once determinism check, reports and the
// fatal-signal reproduce line.
#include "interleave/explore.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "escapes.h"
#include "interleave/contract.h"
#include "interleave/stress.h"
#include "quote.h"
#include "runtime.h"
#include "trace_export.h"
#include "watchdog.h"
#include "where.h"
#include "workers.h"

namespace interleave {

std::string_view to_string(FailureKind kind) noexcept {
  switch (kind) {
    case FailureKind::assertion:
      return "ASSERTION FAILED";
    case FailureKind::exception:
      return "UNCAUGHT EXCEPTION";
    case FailureKind::deadlock:
      return "DEADLOCK";
    case FailureKind::step_bound:
      return "STEP BOUND EXCEEDED";
    case FailureKind::unjoined_fiber:
      return "UNJOINED FIBER";
    case FailureKind::contract_violation:
      return "CONTRACT VIOLATION";
    case FailureKind::nondeterminism:
      return "NONDETERMINISTIC TEST";
    case FailureKind::data_race:
      return "DATA RACE";
    case FailureKind::resources_exhausted:
      return "RESOURCES EXHAUSTED";
  }
  return "FAILURE";
}

namespace detail {

namespace {

using model::ObjectNumbers;
using model::Outcome;
using model::Runtime;
using model::TraceEntry;

// --- the reproduce line, printed from a fatal-signal handler --------------------------------

// Written before each schedule runs, read only by the signal handler, which runs on the thread
// that faulted: each exploring thread has its own. The message is three pieces with the schedule's
// test fingerprint between them (twice: after "while running schedule <token>" and after the
// token of the reproduce line), either fixed when the schedule's fingerprint is known or taken
// from the points run so far when it is not (an exploration's schedules: it is known only after
// they run).
thread_local char g_signal_message[4096];
thread_local std::size_t g_signal_message_length = 0;
thread_local std::size_t g_signal_fingerprint_at[2] = {0, 0};
thread_local char g_signal_fingerprint[32];
thread_local std::size_t g_signal_fingerprint_length = 0;  // 0: take it from the run
// The scheduler running on this thread, for the fiber and step the report names.
thread_local const model::Heartbeat* g_signal_heartbeat = nullptr;
// Set by the first thread to report a fatal signal: a second thread faulting at the same time
// waits for the first to end the process instead of interleaving its report with the first.
std::atomic<bool> g_signal_reporting{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void write_all(const char* data, std::size_t length) {
  while (length > 0) {
    const ssize_t n = ::write(STDERR_FILENO, data, length);
    if (n <= 0) return;
    data += n;
    length -= static_cast<std::size_t>(n);
  }
}

void write_text(const char* text) { write_all(text, std::strlen(text)); }

// Decimal, without allocating (async-signal-safe).
void write_number(std::uint64_t value) {
  char digits[24];
  std::size_t n = sizeof digits;
  do {
    digits[--n] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && n > 0);
  write_all(digits + n, sizeof digits - n);
}

// Writes the armed " while running schedule ... reproduce: ..." lines, with the fingerprint.
void write_armed_message() noexcept {
  char live[40];
  const char* fingerprint = g_signal_fingerprint;
  std::size_t fingerprint_length = g_signal_fingerprint_length;
  if (fingerprint_length == 0) {
    fingerprint = live;
    fingerprint_length = model::fingerprint_text_for_signal(live, sizeof live);
  }
  const std::size_t first = std::min(g_signal_fingerprint_at[0], g_signal_message_length);
  const std::size_t second = std::min(g_signal_fingerprint_at[1], g_signal_message_length);
  write_all(g_signal_message, first);
  if (g_signal_message_length > 0) write_all(fingerprint, fingerprint_length);
  write_all(g_signal_message + first, second - first);
  if (g_signal_message_length > 0) write_all(fingerprint, fingerprint_length);
  write_all(g_signal_message + second, g_signal_message_length - second);
}

void on_fatal_signal(int signal, siginfo_t* info, void*) {
  if (g_signal_reporting.exchange(true)) {
    for (;;) pause();  // another thread is reporting and will end the process
  }
  const char* name = sigdescr_np(signal);
  write_text("\ninterleave: FATAL SIGNAL ");
  write_text(name != nullptr ? name : "?");
  if ((signal == SIGSEGV || signal == SIGBUS) && info != nullptr && fiber_owning_guard_page(info->si_addr) != nullptr) {
    write_text(" (stack overflow in a fiber: raise INTERLEAVE_STACK_KIB if the recursion is legitimate)");
  }
  const model::Heartbeat* heartbeat = g_signal_heartbeat;
  if (heartbeat != nullptr && g_signal_message_length > 0 && heartbeat->running.load(std::memory_order_relaxed)) {
    write_text(" in fiber ");
    write_number(heartbeat->fiber.load(std::memory_order_relaxed));
    write_text(" after step ");
    write_number(heartbeat->step.load(std::memory_order_relaxed));
  }
  write_armed_message();
  // Die of the same signal, as if we had not been here.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(signal, &dfl, nullptr);
  raise(signal);
}

// An alternate signal stack for the calling thread, kept for the thread's life. sigaltstack is
// per thread: every thread that runs fibers needs one, or the handler of a fiber's stack overflow
// would run on the overflowed stack, fault again, and the process would die with no report. It
// is mapped with a guard page below it, like a fiber's stack. A thread that already has one (its
// own, or a sanitizer's) keeps it.
class AlternateSignalStack {
 public:
  AlternateSignalStack() {
    stack_t current{};
    if (sigaltstack(nullptr, &current) != 0 || (current.ss_flags & SS_DISABLE) == 0) return;
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* const mapping =
        mmap(nullptr, page + kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (mapping == MAP_FAILED) return;  // the report then needs an overflow-free crash, as before
    if (mprotect(mapping, page, PROT_NONE) != 0) {
      munmap(mapping, page + kBytes);
      return;
    }
    stack_t ss{};
    ss.ss_sp = static_cast<char*>(mapping) + page;
    ss.ss_size = kBytes;
    if (sigaltstack(&ss, nullptr) != 0) {
      munmap(mapping, page + kBytes);
      return;
    }
    mapping_ = mapping;
    mapping_size_ = page + kBytes;
  }
  AlternateSignalStack(const AlternateSignalStack&) = delete;
  AlternateSignalStack& operator=(const AlternateSignalStack&) = delete;
  ~AlternateSignalStack() {
    if (mapping_ == nullptr) return;
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
    munmap(mapping_, mapping_size_);
  }

 private:
  static constexpr std::size_t kBytes = std::size_t{64} * 1024;
  void* mapping_ = nullptr;
  std::size_t mapping_size_ = 0;
};

// Installs the handler (once per process) and the calling thread's alternate stack (once per
// thread). Called by every thread before it runs schedules.
void install_fatal_signal_reporter() {
  static const bool installed = [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(s, &sa, nullptr);
    return true;
  }();
  (void)installed;
  thread_local AlternateSignalStack alternate_stack;
}

void arm_signal_message(const ScheduleId& id, const std::string& command, const std::string& configuration,
                        const model::Heartbeat& heartbeat) {
  std::string token = id.token();
  token.erase(token.rfind(".t=") + 3);  // the fingerprint goes after it
  const std::string head = absl::StrCat(" while running schedule ", token);
  const std::string middle =
      absl::StrCat("\n  configuration: ", configuration, "\nreproduce: INTERLEAVE_REPLAY=", token);
  const std::string text = absl::StrCat(head, middle, " ", command, "\n");
  const std::size_t n = std::min(text.size(), sizeof g_signal_message);
  text.copy(g_signal_message, n);
  g_signal_message_length = n;
  g_signal_fingerprint_at[0] = head.size();
  g_signal_fingerprint_at[1] = head.size() + middle.size();
  const std::string fingerprint = id.test.recorded() ? id.test.text() : std::string();
  g_signal_fingerprint_length = std::min(fingerprint.size(), sizeof g_signal_fingerprint);
  fingerprint.copy(g_signal_fingerprint, g_signal_fingerprint_length);
  g_signal_heartbeat = &heartbeat;
}

void disarm_signal_message() {
  g_signal_message_length = 0;
  g_signal_heartbeat = nullptr;
}

}  // namespace

void write_schedule_report(const char* headline) noexcept {
  write_all(headline, std::strlen(headline));
  write_armed_message();
}

namespace {

// --- helpers ------------------------------------------------------------------------------------

std::string shell_quote(std::string_view word) {
  if (!word.empty() &&
      word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") ==
          std::string_view::npos) {
    return std::string(word);
  }
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

}  // namespace

std::string program_command_line(bool drop_gtest_filter) {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string command;
  std::size_t start = 0;
  while (start < raw.size()) {
    std::size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    const std::string_view argument = std::string_view(raw).substr(start, end - start);
    start = end + 1;
    if (drop_gtest_filter && argument.substr(0, 15) == "--gtest_filter=") continue;
    if (!command.empty()) command += ' ';
    command += shell_quote(argument);
  }
  return command;
}

namespace {

std::vector<StepRecord> describe_steps(const std::vector<TraceEntry>& trace, std::size_t first, std::size_t last) {
  std::vector<StepRecord> out;
  const ObjectNumbers objects(trace);
  for (std::size_t i = first; i < last; ++i) {
    const TraceEntry& e = trace[i];
    StepRecord r;
    r.step = e.step;
    r.fiber = e.fiber;
    r.what = e.what;
    if (e.spawned != UINT32_MAX) absl::StrAppend(&r.what, " fiber ", e.spawned);
    r.object = objects.of(e.object);
    if (e.operation != nullptr) {
      r.operation = e.operation;
      r.where = location_text(e.where);
    }
    out.push_back(std::move(r));
  }
  return out;
}

ScheduleId schedule_for(const Options& options, std::uint64_t index, std::uint64_t step_estimate) {
  ScheduleId id;
  id.strategy = options.strategy;
  id.pct_depth = options.pct_depth;
  id.pct_step_estimate = options.strategy == Strategy::pct ? std::max<std::uint64_t>(step_estimate, 1) : 0;
  id.seed = options.seed;
  id.index = index;
  id.spurious_wakeup_permille = options.spurious_wakeup_permille;
  id.max_steps = options.max_steps;
  return id;
}

Runtime& runtime_for(std::size_t stack_bytes) {
  thread_local std::unique_ptr<Runtime> runtime;
  if (!runtime || runtime->stack_bytes() != stack_bytes) runtime = std::make_unique<Runtime>(stack_bytes);
  return *runtime;
}

// The progress line (Options::progress): printed by whichever exploring thread finishes a
// schedule when it is due, at most every 250 ms, once the exploration has run for 2 s.
class ProgressLine {
 public:
  ProgressLine(Progress mode, std::uint64_t planned) : planned_(planned) {
    const bool terminal = ::isatty(STDERR_FILENO) == 1;
    enabled_ = mode == Progress::on || (mode == Progress::automatic && terminal && std::getenv("CI") == nullptr);
    terminal_ = terminal;
    start_ = std::chrono::steady_clock::now();
    next_ns_.store(2'000'000'000, std::memory_order_relaxed);
  }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine() {
    if (printed_.load(std::memory_order_relaxed) && terminal_) write_all("\r\033[K", 4);
  }

  void schedule_done(std::uint64_t done, bool failed) {
    if (!enabled_) return;
    const std::int64_t now = elapsed_ns();
    std::int64_t due = next_ns_.load(std::memory_order_relaxed);
    if (now < due) return;
    const std::int64_t interval = terminal_ ? 250'000'000 : 5'000'000'000;
    if (!next_ns_.compare_exchange_strong(due, now + interval, std::memory_order_relaxed)) return;
    printed_.store(true, std::memory_order_relaxed);
    const double seconds = static_cast<double>(now) / 1e9;
    const std::string line = absl::StrFormat(
        "%sinterleave: %d/%d schedules, %.0f/s, %d failing, %.1f s%s", terminal_ ? "\r\033[K" : "", done, planned_,
        static_cast<double>(done) / seconds, failed ? 1 : 0, seconds, terminal_ ? "" : "\n");
    write_all(line.data(), line.size());
  }

 private:
  std::int64_t elapsed_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count();
  }

  std::uint64_t planned_;
  bool enabled_ = false;
  bool terminal_ = false;
  std::chrono::steady_clock::time_point start_;
  std::atomic<std::int64_t> next_ns_{0};
  std::atomic<bool> printed_{false};
};

// PCT draws its change points from an estimate of the schedule length: the longest schedule seen
// so far. So that every job count explores the same schedules, the estimate changes only between
// batches of schedule positions (1, 1, 2, 4, ... 64, then 64 at a time): a batch uses the longest
// schedule of the batches before it. Random walk needs no estimate: one batch.
std::uint64_t batch_end(Strategy strategy, std::uint64_t start, std::uint64_t count) {
  if (strategy != Strategy::pct) return count;
  const std::uint64_t size = start == 0 ? 1 : std::min<std::uint64_t>(start, 64);
  return std::min(count, start + size);
}

// The first failure of a parallel exploration: the lowest failing position wins.
struct FirstFailure {
  std::uint64_t position = UINT64_MAX;
  ScheduleId id;
  Failure failure;
  std::uint64_t steps = 0;
  std::uint32_t preemptions = 0;
  std::vector<std::uint32_t> sequence;
};

// --- shrinking ------------------------------------------------------------------------------

// Two failures are the same bug when they are of the same kind, detected at the same place.
bool same_bug(const Failure& a, const Failure& b) { return a.kind == b.kind && a.where == b.where; }

ScheduleId choices_schedule(std::vector<Choice> choices, std::uint64_t max_steps) {
  ScheduleId id;
  id.strategy = Strategy::choices;
  id.max_steps = max_steps;
  std::sort(choices.begin(), choices.end());
  id.choices = std::move(choices);
  return id;
}

// Shrinks a failing schedule to a simpler one that fails with the same bug: fewer departures from
// the undisturbed schedule (see schedule.h), that is fewer preemptions, spurious wake-ups and
// out-of-order wakes. `choices` are the failing run's departures, recorded. Delta debugging: drop a
// chunk of them, keep the result when the bug persists (taking the departures that run actually
// made), halve the chunk when nothing more goes; then drop one while moving another a decision or
// two earlier or later (a preemption one step too late can need a second one to repair it); then
// single early preemptions of each fiber. At most
// `budget` runs; deterministic, so every job count shrinks alike.
struct Shrunk {
  ScheduleId id;
  std::uint64_t runs = 0;
};

Shrunk shrink_schedule(Runtime& runtime, const std::function<void()>& body, const Failure& bug,
                       std::vector<Choice> choices, std::uint64_t max_steps, std::uint64_t budget,
                       const std::function<void(const ScheduleId&)>& before_run) {
  Shrunk out;
  std::vector<Choice> recorded;
  const auto fails = [&](std::vector<Choice> candidate) {
    if (out.runs >= budget) return false;
    ++out.runs;
    const ScheduleId candidate_id = choices_schedule(std::move(candidate), max_steps);
    before_run(candidate_id);
    const Outcome o = runtime.run(candidate_id, body, false, &recorded);
    if (!o.failure || !same_bug(*o.failure, bug)) return false;
    choices = recorded;
    return true;
  };
  std::size_t chunk = std::max<std::size_t>(1, choices.size() / 2);
  while (out.runs < budget && !choices.empty()) {
    bool removed = false;
    for (std::size_t start = 0; start < choices.size() && out.runs < budget;) {
      std::vector<Choice> candidate = choices;
      candidate.erase(candidate.begin() + static_cast<std::ptrdiff_t>(start),
                      candidate.begin() + static_cast<std::ptrdiff_t>(std::min(start + chunk, candidate.size())));
      if (fails(std::move(candidate))) {
        removed = true;  // the entries after them moved down: try the same place again
      } else {
        start += chunk;
      }
    }
    if (chunk == 1 && !removed) break;
    chunk = std::max<std::size_t>(1, chunk / 2);
  }
  for (bool moved = true; moved && choices.size() > 1 && out.runs < budget;) {
    moved = false;
    for (std::size_t a = 0; a < choices.size() && !moved && out.runs < budget; ++a) {
      for (std::size_t b = 0; b < choices.size() && !moved && out.runs < budget; ++b) {
        if (a == b) continue;
        for (const std::int64_t shift : {-1, 1, -2, 2}) {
          if (shift < 0 && choices[a].decision < static_cast<std::uint64_t>(-shift)) continue;
          std::vector<Choice> candidate;
          Choice shifted = choices[a];
          shifted.decision = static_cast<std::uint64_t>(static_cast<std::int64_t>(shifted.decision) + shift);
          for (std::size_t i = 0; i < choices.size(); ++i) {
            if (i != a && i != b && !(choices[i].fiber == shifted.fiber && choices[i].decision == shifted.decision)) {
              candidate.push_back(choices[i]);
            }
          }
          candidate.push_back(shifted);
          if (fails(std::move(candidate))) {
            moved = true;
            break;
          }
        }
      }
    }
  }
  // Many bugs need one preemption early in some fiber, where the schedule found preempted several
  // fibers: try each fiber alone, preempted at one of its first decisions.
  if (choices.size() > 1) {
    std::uint32_t fibers = 0;
    for (const Choice& c : choices) fibers = std::max(fibers, c.fiber + 1);
    for (std::uint64_t decision = 0; decision < 16 && choices.size() > 1 && out.runs < budget; ++decision) {
      for (std::uint32_t fiber = 0; fiber <= fibers && choices.size() > 1 && out.runs < budget; ++fiber) {
        for (const std::uint32_t value : {1U, 2U}) {
          if (fails({Choice{fiber, decision, value}})) break;
        }
      }
    }
  }
  out.id = choices_schedule(choices, max_steps);
  return out;
}

// Empty when the run just made fits the replayed token `id`, else the error: the token was
// recorded from another test (or this one before it changed), so the schedule it names could not
// be replayed, and the run shows nothing.
std::string replay_misfit(const Runtime& runtime, const ScheduleId& id) {
  const auto plural = [](std::uint64_t n, const char* word) { return absl::StrCat(n, " ", word, n == 1 ? "" : "s"); };
  std::string problem;
  const TestFingerprint found = runtime.fingerprint(id.test.steps);
  if (found != id.test) {
    problem =
        absl::StrCat("it was recorded from a test whose first ", plural(id.test.steps, "scheduling point"), " ran ",
                     plural(id.test.fibers, "fiber"), " (fingerprint ", id.test.text(), "), but this test's ",
                     found.steps < id.test.steps
                         ? absl::StrCat("whole run made only ", plural(found.steps, "scheduling point"), ", which ran ")
                         : absl::StrCat("first ", plural(found.steps, "scheduling point"), " ran "),
                     plural(found.fibers, "fiber"), " (fingerprint ", found.text(),
                     "): ", runtime.describe_fingerprint(found.steps));
  } else if (const auto& misfit = runtime.chooser().misfit()) {
    const Choice& c = misfit->choice;
    problem = absl::StrCat("its choice ", c.fiber, "_", c.decision, ":", c.value, " names position ", c.value, " of ",
                           misfit->decision, ", which in this test had positions 0 to ", misfit->positions - 1);
  } else if (const std::optional<Choice> unreached = runtime.chooser().unreached_choice()) {
    const Choice& c = *unreached;
    const std::uint64_t taken = runtime.chooser().decisions_of(c.fiber);
    problem = absl::StrCat("its choice ", c.fiber, "_", c.decision, ":", c.value, " was never reached: in this test ",
                           taken == 0 ? absl::StrCat("fiber ", c.fiber, " took no decision (it never ran)")
                                      : absl::StrCat("fiber ", c.fiber, " took ", plural(taken, "decision")));
  }
  if (problem.empty()) return {};
  return absl::StrCat(
      "interleave: the replay token ", quote_input(id.token()), " does not fit this test: ", problem,
      ".\n  The token comes from another test, or this test (or the code it tests) changed since the token was "
      "printed, or the test does not run the same way every time. Its schedule was not replayed, so this run shows "
      "nothing: run the test without INTERLEAVE_REPLAY to explore it, and replay the token its own failure report "
      "prints (a property's token goes with the RC_PARAMS=\"reproduce=...\" of the same report).");
}

}  // namespace

Result explore_function(Options options, const std::function<void()>& body, std::string reproduce_command,
                        const FailureProbeFactory& make_probe, bool runner_shards_tests) {
  if (model::active()) {
    // The outer schedule's fibers run on this thread's runtime and stacks: an inner exploration
    // would replace them under the running fiber.
    throw std::logic_error(absl::StrCat("interleave: explore() was called inside an explored body (fiber ",
                                        model::current_fiber(),
                                        "); explorations do not nest: explore the inner body on its own"));
  }
  link_escape_checks();
  options.apply_environment();
  if (runner_shards_tests) {
    options.shard_count = 1;
    options.shard_index = 0;
  }
  if (options.strategy == Strategy::choices && options.replay.empty()) {
    throw std::invalid_argument(
        "interleave: Strategy::choices names one schedule decision by decision (a replay token); explore with "
        "Strategy::random_walk or Strategy::pct");
  }
  check_trace_path(options.trace_path);
  if (reproduce_command.empty()) reproduce_command = program_command_line();
  install_fatal_signal_reporter();
  const std::size_t stack_bytes = options.stack_kib * 1024;
  Runtime& runtime = runtime_for(stack_bytes);
  // The calling thread's probe lives for the whole exploration: it also serves the replay.
  const std::unique_ptr<FailureProbe> probe = make_probe ? make_probe() : nullptr;
  if (probe) runtime.set_failure_probe([p = probe.get()] { return p->poll(); });
  // Options::race_detector, when set, applies to this exploration only.
  struct RestoreDetector {
    std::optional<bool> previous;
    ~RestoreDetector() {
      if (previous) (void)model::set_race_detector(*previous);
    }
  } restore_detector;
  if (options.race_detector) restore_detector.previous = model::set_race_detector(*options.race_detector);
  struct ClearProbe {
    Runtime& r;
    ~ClearProbe() { r.set_failure_probe({}); }
  } clear_probe{runtime};

  Result result;
  result.configuration = options.describe();
  const bool replaying = !options.replay.empty();
  result.replayed = replaying;

  // This shard's schedule positions: position p runs schedule index p * shard_count + shard_index.
  const std::uint64_t count = replaying ? 1
                              : options.shard_index >= options.schedules
                                  ? 0
                                  : (options.schedules - options.shard_index - 1) / options.shard_count + 1;
  result.schedules_planned = replaying ? 1 : options.schedules;
  const auto id_at = [&](std::uint64_t position, std::uint64_t step_estimate) {
    return replaying ? ScheduleId::parse(options.replay)
                     : schedule_for(options, position * options.shard_count + options.shard_index, step_estimate);
  };
  const unsigned jobs = static_cast<unsigned>(std::clamp<std::uint64_t>(
      options.jobs == 0 ? available_cores() : options.jobs, 1, std::max<std::uint64_t>(count, 1)));

  ProgressLine progress(options.progress, count);
  Watchdog watchdog(options.watchdog_ms, jobs, reproduce_command, result.configuration);
  watchdog.attach(0, runtime.heartbeat());  // the calling thread also replays and shrinks
  std::mutex failure_mutex;
  FirstFailure first;
  std::atomic<std::uint64_t> failing_position{UINT64_MAX};
  std::atomic<std::uint64_t> next_position{0};
  std::atomic<std::uint64_t> longest{0};
  std::atomic<std::uint64_t> total_steps{0};
  std::atomic<std::uint64_t> finished{0};
  std::uint64_t batch_limit = 0;
  std::uint64_t step_estimate = 50;
  std::string misfit;  // replaying: why the run does not fit the token (one run, on this thread)

  const auto explore_batch = [&](unsigned worker) {
    install_fatal_signal_reporter();  // this thread's alternate signal stack
    Runtime& mine = worker == 0 ? runtime : runtime_for(stack_bytes);
    std::unique_ptr<FailureProbe> worker_probe;
    if (worker != 0 && make_probe) {
      worker_probe = make_probe();
      mine.set_failure_probe([p = worker_probe.get()] { return p->poll(); });
    }
    if (worker != 0) watchdog.attach(worker, mine.heartbeat());
    struct Cleanup {
      Runtime& r;
      bool clear;
      Watchdog& watchdog;
      unsigned worker;
      ~Cleanup() {
        if (clear) r.set_failure_probe({});
        disarm_signal_message();
        if (worker != 0) watchdog.detach(worker);
      }
    } cleanup{mine, worker_probe != nullptr, watchdog, worker};
    while (true) {
      const std::uint64_t position = next_position.fetch_add(1, std::memory_order_relaxed);
      if (position >= batch_limit || position > failing_position.load(std::memory_order_acquire)) return;
      const ScheduleId id = id_at(position, step_estimate);
      arm_signal_message(id, reproduce_command, result.configuration, mine.heartbeat());
      watchdog.schedule_started(worker, id.token());
      // Exploration records only which fiber ran each step; a failing schedule is then replayed
      // with a full trace, which also checks that it fails the same way again.
      Outcome outcome = mine.run(id, body, replaying);
      if (replaying) misfit = replay_misfit(mine, id);
      total_steps.fetch_add(outcome.steps, std::memory_order_relaxed);
      std::uint64_t seen = longest.load(std::memory_order_relaxed);
      while (seen < outcome.steps && !longest.compare_exchange_weak(seen, outcome.steps, std::memory_order_relaxed)) {
      }
      if (outcome.failure) {
        std::lock_guard lock(failure_mutex);
        if (position < first.position) {
          first.position = position;
          first.id = id;
          first.failure = *outcome.failure;
          first.steps = outcome.steps;
          first.preemptions = outcome.preemptions;
          first.sequence = *outcome.sequence;
          failing_position.store(position, std::memory_order_release);
        }
      }
      progress.schedule_done(finished.fetch_add(1, std::memory_order_relaxed) + 1, outcome.failure.has_value());
    }
  };

  for (std::uint64_t start = 0; start < count && failing_position.load() == UINT64_MAX; start = batch_limit) {
    batch_limit = batch_end(replaying ? Strategy::random_walk : options.strategy, start, count);
    next_position.store(start);
    step_estimate = std::max<std::uint64_t>(50, longest.load());
    WorkerPool::instance().run(static_cast<unsigned>(std::min<std::uint64_t>(jobs, batch_limit - start)),
                               explore_batch);
  }
  result.total_steps = total_steps.load();
  // A token from another test must not pass (or fail) as if its schedule had been replayed.
  if (!misfit.empty()) {
    disarm_signal_message();
    throw ReplayMismatch(misfit);
  }

  if (first.position == UINT64_MAX) {
    result.schedules_run = count;
    if (count > 0) result.schedule = id_at(count - 1, step_estimate);
    result.reproduce.clear();
    return result;
  }

  // Replay the failing schedule once: a test that does not fail the same way again depends on
  // something outside the schedule (time, addresses, global state), and its reproduce line would lie.
  ScheduleId id = first.id;
  result.schedules_run = first.position + 1;
  result.steps = first.steps;
  result.preemptions = first.preemptions;
  result.found_preemptions = first.preemptions;
  const std::vector<std::uint32_t>& first_sequence = first.sequence;
  const Failure& first_failure = first.failure;
  arm_signal_message(id, reproduce_command, result.configuration, runtime.heartbeat());
  watchdog.schedule_started(0, id.token());
  std::vector<Choice> departures;
  Outcome again = runtime.run(id, body, true, &departures);
  // The token names the test it belongs to: the fingerprint of this run (a replayed token's own).
  id.test = runtime.fingerprint();
  result.schedule = id;
  const bool same = again.failure && again.failure->kind == first_failure.kind && again.steps == first.steps &&
                    *again.sequence == first_sequence;
  if (same && !replaying && options.shrink_runs > 0) {
    // Then shrink it, and report the simplest schedule that still fails with the same bug.
    const Failure bug = *again.failure;
    // A candidate that crashes or hangs is reported with its own token, which reproduces that
    // (its fingerprint taken from the points run, not the found schedule's).
    const auto before_run = [&](const ScheduleId& candidate) {
      arm_signal_message(candidate, reproduce_command, result.configuration, runtime.heartbeat());
      watchdog.schedule_started(0, candidate.token());
    };
    Shrunk shrunk =
        shrink_schedule(runtime, body, bug, std::move(departures), id.max_steps, options.shrink_runs, before_run);
    before_run(shrunk.id);
    Outcome final_run = runtime.run(shrunk.id, body, true);
    shrunk.id.test = runtime.fingerprint();
    result.shrink_runs = shrunk.runs;
    if (final_run.failure && same_bug(*final_run.failure, bug)) {
      result.shrunk = shrunk.id;
      again = final_run;
    } else {
      // The body is not deterministic after all: report the schedule found, as found.
      before_run(id);
      again = runtime.run(id, body, true);
    }
  }
  const std::vector<TraceEntry>& trace = *again.trace;
  result.failure = same ? *again.failure : first_failure;
  if (same) {
    result.steps = again.steps;
    result.preemptions = again.preemptions;
  }
  const std::size_t shown = std::min<std::size_t>(trace.size(), static_cast<std::size_t>(options.report_steps));
  result.last_steps = describe_steps(trace, trace.size() - shown, trace.size());
  if (!same) {
    const std::vector<std::uint32_t>& second_sequence = *again.sequence;
    std::size_t diverged = 0;
    while (diverged < first_sequence.size() && diverged < second_sequence.size() &&
           first_sequence[diverged] == second_sequence[diverged]) {
      ++diverged;
    }
    Failure f;
    f.kind = FailureKind::nondeterminism;
    f.fiber = first_failure.fiber;
    f.step = diverged < trace.size() ? trace[diverged].step : again.steps;
    f.message =
        absl::StrCat("the schedule failed with ", std::string(to_string(first_failure.kind)), " (",
                     first_failure.message, ") but replaying it ",
                     again.failure ? absl::StrCat("failed differently (", std::string(to_string(again.failure->kind)),
                                                  ": ", again.failure->message, ")")
                                   : std::string("passed"),
                     ". The runs first differ at step ", f.step,
                     ": the body depends on something the scheduler does not control (real time, "
                     "randomness, addresses, state kept between runs).");
    absl::StrAppend(&f.message, "\n    first run:  ",
                    diverged < first_sequence.size() ? absl::StrCat("fiber ", first_sequence[diverged], " ran")
                                                     : std::string("(the run had already ended)"),
                    "\n    replay run: ");
    if (diverged < trace.size()) {
      const StepRecord r = describe_steps(trace, diverged, diverged + 1).front();
      absl::StrAppend(&f.message, "fiber ", r.fiber, " ", r.what, r.operation.empty() ? "" : " in ", r.operation,
                      r.where.empty() ? "" : " at ", r.where);
    } else {
      absl::StrAppend(&f.message, "(the run had already ended)");
    }
    result.failure = f;
  }
  result.reproduce =
      absl::StrCat("INTERLEAVE_REPLAY=", result.shrunk ? result.shrunk->token() : id.token(), " ", reproduce_command);
  if (!options.trace_path.empty()) write_trace_files(options.trace_path, trace, *again.edges, result);
  disarm_signal_message();
  return result;
}

[[noreturn]] void assertion_failed(const char* expression, interleave::source_location where,
                                   std::string_view message) {
  std::string text = absl::StrCat("INTERLEAVE_ASSERT(", expression, ") failed");
  if (!message.empty()) text.append(": ").append(message);
  if (model::active()) model::fail(FailureKind::assertion, std::move(text), where);
  // On real threads of a stress run: fail the run with its seed, and unwind the failing thread.
  if (stress_active()) stress_assertion_failed(std::move(text), where);
  report_contract_violation(text, where);
}

}  // namespace detail

std::string Result::report() const {
  if (!failure) {
    return absl::StrFormat("interleave: passed %d schedules (%s), %d scheduling points in all\n", schedules_run,
                           configuration, total_steps);
  }
  const auto plural = [](std::uint64_t n, const char* word) { return absl::StrCat(n, " ", word, n == 1 ? "" : "s"); };
  std::string where_found;
  if (schedule.strategy == Strategy::choices) {
    where_found = absl::StrCat("replay of a shrunk schedule, ", plural(preemptions, "preemption"));
  } else {
    where_found = absl::StrCat(
        schedule.strategy == Strategy::pct ? absl::StrCat("pct:", schedule.pct_depth) : std::string("random"),
        absl::StrFormat(", seed 0x%x, ", schedule.seed),
        replayed ? absl::StrCat("replay of schedule ", schedule.index)
                 : absl::StrCat("schedule ", schedule.index, " of ", schedules_planned),
        shrunk ? absl::StrCat(", shrunk to ", plural(preemptions, "preemption"), " from ", found_preemptions, " in ",
                              plural(shrink_runs, "run"))
               : absl::StrCat(", ", plural(preemptions, "preemption")));
  }
  std::string out = absl::StrFormat("interleave: %s after %d steps (%s)\n", std::string(to_string(failure->kind)),
                                    steps, where_found);
  absl::StrAppend(&out, "  ", failure->message, "\n");
  absl::StrAppend(&out, "  in fiber ", failure->fiber, " at step ", failure->step,
                  failure->where.empty() ? "" : absl::StrCat(", ", failure->where), "\n");
  if (!last_steps.empty()) {
    absl::StrAppend(&out, "  last ", last_steps.size(), " steps:\n");
    for (const StepRecord& r : last_steps) {
      absl::StrAppend(&out, absl::StrFormat("    #%-6d fiber %-3d %-24s", r.step, r.fiber, r.what));
      if (r.object != 0) absl::StrAppend(&out, " object #", r.object);
      if (!r.operation.empty()) absl::StrAppend(&out, "  in ", r.operation);
      if (!r.where.empty()) absl::StrAppend(&out, " at ", r.where);
      absl::StrAppend(&out, "\n");
    }
  }
  if (!trace_files.empty()) {
    absl::StrAppend(&out, "  trace: ", absl::StrJoin(trace_files, ", "),
                    " (the .json opens in Perfetto UI or chrome://tracing, the .html in any browser)\n");
  }
  if (!trace_error.empty()) absl::StrAppend(&out, "  trace not written: ", trace_error, "\n");
  absl::StrAppend(&out, "  configuration: ", configuration, "\n");
  absl::StrAppend(&out, "reproduce: ", reproduce, "\n");
  return out;
}

}  // namespace interleave
