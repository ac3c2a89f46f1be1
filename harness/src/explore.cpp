// explore(): the loop over schedules, the replay-once determinism check, reports and the
// fatal-signal reproduce line.
#include "interleave/explore.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

#include "interleave/contract.h"
#include "interleave/stress.h"
#include "runtime.h"

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
  }
  return "FAILURE";
}

namespace detail {

namespace {

using model::Outcome;
using model::Runtime;
using model::TraceEntry;

// --- the reproduce line, printed from a fatal-signal handler --------------------------------

// Written before each schedule runs, read only by the signal handler.
char g_signal_message[4096];
std::size_t g_signal_message_length = 0;

void write_all(const char* data, std::size_t length) {
  while (length > 0) {
    const ssize_t n = ::write(STDERR_FILENO, data, length);
    if (n <= 0) return;
    data += n;
    length -= static_cast<std::size_t>(n);
  }
}

void on_fatal_signal(int signal, siginfo_t* info, void*) {
  const char* name = sigdescr_np(signal);
  write_all("\ninterleave: FATAL SIGNAL ", 26);
  write_all(name != nullptr ? name : "?", name != nullptr ? std::strlen(name) : 1);
  if ((signal == SIGSEGV || signal == SIGBUS) && info != nullptr && fiber_owning_guard_page(info->si_addr) != nullptr) {
    const char overflow[] = " (stack overflow in a fiber: raise INTERLEAVE_STACK_KIB if the recursion is legitimate)";
    write_all(overflow, sizeof overflow - 1);
  }
  write_all(g_signal_message, g_signal_message_length);
  // Die of the same signal, as if we had not been here.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(signal, &dfl, nullptr);
  raise(signal);
}

void install_fatal_signal_reporter() {
  static const bool installed = [] {
    // An alternate stack, so a fiber's stack overflow can still be reported.
    static std::unique_ptr<char[]> alternate(new char[1 << 16]);
    stack_t ss{};
    ss.ss_sp = alternate.get();
    ss.ss_size = 1 << 16;
    sigaltstack(&ss, nullptr);
    struct sigaction sa {};
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(s, &sa, nullptr);
    return true;
  }();
  (void)installed;
}

void arm_signal_message(const std::string& token, const std::string& command, const std::string& configuration) {
  const std::string text = absl::StrCat(" while running schedule ", token, "\n  configuration: ", configuration,
                                        "\nreproduce: INTERLEAVE_REPLAY=", token, " ", command, "\n");
  const std::size_t n = std::min(text.size(), sizeof g_signal_message);
  std::memcpy(g_signal_message, text.data(), n);
  g_signal_message_length = n;
}

void disarm_signal_message() { g_signal_message_length = 0; }

// --- helpers ------------------------------------------------------------------------------------

std::string shell_quote(std::string_view word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") ==
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

std::string location_of(const interleave::source_location& where) {
  if (where.line() == 0) return {};
  return absl::StrCat(where.file_name(), ":", where.line());
}

std::vector<StepRecord> describe_steps(const std::vector<TraceEntry>& trace, std::size_t first, std::size_t last) {
  std::vector<StepRecord> out;
  for (std::size_t i = first; i < last; ++i) {
    const TraceEntry& e = trace[i];
    StepRecord r;
    r.step = e.step;
    r.fiber = e.fiber;
    r.what = e.what;
    if (e.spawned != UINT32_MAX) absl::StrAppend(&r.what, " fiber ", e.spawned);
    r.object = Runtime::object_number(trace, e.object);
    if (e.operation != nullptr) {
      r.operation = e.operation;
      r.where = location_of(e.where);
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

}  // namespace

Result explore_function(Options options, const std::function<void()>& body, std::string reproduce_command,
                        std::function<std::string()> failure_probe) {
  options.apply_environment();
  if (reproduce_command.empty()) reproduce_command = program_command_line();
  install_fatal_signal_reporter();
  Runtime& runtime = runtime_for(options.stack_kib * 1024);
  runtime.set_failure_probe(std::move(failure_probe));
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

  std::vector<ScheduleId> plan;
  std::uint64_t step_estimate = 50;  // PCT: grows to the longest schedule seen so far
  const bool replaying = !options.replay.empty();
  const std::uint64_t count = replaying ? 1 : options.schedules;
  result.schedules_planned = count;
  result.replayed = replaying;

  for (std::uint64_t i = 0; i < count; ++i) {
    const ScheduleId id = replaying ? ScheduleId::parse(options.replay) : schedule_for(options, i, step_estimate);
    arm_signal_message(id.token(), reproduce_command, result.configuration);
    // Exploration records only which fiber ran each step; a failing schedule is then replayed
    // with a full trace, which also checks that it fails the same way again.
    Outcome outcome = runtime.run(id, body, replaying);
    result.schedules_run = i + 1;
    result.total_steps += outcome.steps;
    step_estimate = std::max(step_estimate, outcome.steps);
    result.schedule = id;
    result.steps = outcome.steps;
    result.preemptions = outcome.preemptions;
    if (!outcome.failure) continue;

    // Replay the failing schedule once: a test that does not fail the same way again depends on
    // something outside the schedule (time, addresses, global state), and its reproduce line would lie.
    const std::vector<std::uint32_t> first_sequence = *outcome.sequence;
    const Failure first_failure = *outcome.failure;
    const std::uint64_t first_steps = outcome.steps;
    Outcome again = runtime.run(id, body, true);
    const std::vector<TraceEntry>& trace = *again.trace;
    const bool same = again.failure && again.failure->kind == first_failure.kind && again.steps == first_steps &&
                      *again.sequence == first_sequence;
    result.failure = same ? *again.failure : first_failure;
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
      f.message = absl::StrCat("the schedule failed with ", std::string(to_string(first_failure.kind)), " (",
                               first_failure.message, ") but replaying it ",
                               again.failure ? absl::StrCat("failed differently (",
                                                            std::string(to_string(again.failure->kind)), ": ",
                                                            again.failure->message, ")")
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
    result.reproduce = absl::StrCat("INTERLEAVE_REPLAY=", id.token(), " ", reproduce_command);
    disarm_signal_message();
    return result;
  }
  result.reproduce.clear();
  disarm_signal_message();
  return result;
}

[[noreturn]] void assertion_failed(const char* expression, interleave::source_location where) {
  if (model::active()) {
    model::fail(FailureKind::assertion, absl::StrCat("INTERLEAVE_ASSERT(", expression, ") failed"), where);
  }
  // On real threads of a stress run: fail the run with its seed, and unwind the failing thread.
  if (stress_active()) stress_assertion_failed(absl::StrCat("INTERLEAVE_ASSERT(", expression, ") failed"), where);
  report_contract_violation(absl::StrCat("INTERLEAVE_ASSERT(", expression, ") failed"), where);
}

}  // namespace detail

std::string Result::report() const {
  if (!failure) {
    return absl::StrFormat("interleave: passed %d schedules (%s), %d scheduling points in all\n", schedules_run,
                           configuration, total_steps);
  }
  const std::string which = replayed ? absl::StrCat("replay of schedule ", schedule.index)
                                     : absl::StrCat("schedule ", schedule.index, " of ", schedules_planned);
  std::string out = absl::StrFormat(
      "interleave: %s after %d steps (%s, seed 0x%x, %s, %d preemption%s)\n", std::string(to_string(failure->kind)),
      steps, schedule.strategy == Strategy::pct ? absl::StrCat("pct:", schedule.pct_depth) : std::string("random"),
      schedule.seed, which, preemptions, preemptions == 1 ? "" : "s");
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
  absl::StrAppend(&out, "  configuration: ", configuration, "\n");
  absl::StrAppend(&out, "reproduce: ", reproduce, "\n");
  return out;
}

}  // namespace interleave
