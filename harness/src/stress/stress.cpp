// stress(): iterations of a body on the Perturbed platform, child processes of a stress run and
// the hang watchdog (per-thread perturbation and the TSan hook: perturbation.cpp).
#include "interleave/stress.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "explore/signal_report.h"
#include "interleave/detail/model_runtime.h"
#include "interleave/detail/sanitizers.h"
#include "stress/run_context.h"
#include "where.h"

namespace interleave {

using detail::perturb::current;
using detail::perturb::RunContext;
using detail::perturb::StressAborted;

// --- PerturbedProcess ------------------------------------------------------------------------

PerturbedProcess::~PerturbedProcess() { forget(); }

void PerturbedProcess::forget() noexcept {
  if (slot_ < 0) return;
  RunContext* run = current.run;
  if (run != nullptr) {
    pid_t expected = registered_;
    run->children[slot_].compare_exchange_strong(expected, 0, std::memory_order_relaxed);
  }
  slot_ = -1;
  registered_ = -1;
}

void PerturbedProcess::start() {
  detail::perturb::perturb();
  if (process_) throw std::logic_error("PerturbedProcess::start: " + role_ + " was already started");
  detail::perturb::Seed seed = detail::perturb::spawn(role_);
  if (seed.name[0] != '\0') seed.mailbox = mailbox_.data();
  process_.emplace(
      [seed, target = target_, mailbox = mailbox_.data(), role = role_]() -> int {
        const detail::perturb::Installed installed(seed);
        try {
          return target();
        } catch (const StressAborted&) {
          return kFailedExitCode;
        } catch (const std::exception& e) {
          detail::perturb::post(mailbox, absl::StrCat("uncaught exception: ", e.what()));
          std::fprintf(stderr, "interleave: process '%s' (pid %d): uncaught exception: %s\n", role.c_str(), getpid(),
                       e.what());
          return kFailedExitCode;
        } catch (...) {
          const std::string what = detail::describe_foreign_assertion(std::current_exception())
                                       .value_or("uncaught exception of unknown type");
          detail::perturb::post(mailbox, what);
          std::fprintf(stderr, "interleave: process '%s' (pid %d): %s\n", role.c_str(), getpid(), what.c_str());
          return kFailedExitCode;
        }
      },
      role_);
  process_->start();
  RunContext* run = current.run;
  if (run != nullptr) {
    for (int i = 0; i < RunContext::kChildren; ++i) {
      pid_t expected = 0;
      if (run->children[i].compare_exchange_strong(expected, process_->pid(), std::memory_order_relaxed)) {
        slot_ = i;
        registered_ = process_->pid();
        break;
      }
    }
  }
}

ExitStatus PerturbedProcess::join(interleave::source_location where) {
  detail::perturb::perturb();
  if (!process_) throw std::logic_error("PerturbedProcess::join: " + role_ + " was never started");
  RunContext* run = current.run;
  const pid_t pid = process_->pid();
  if (run == nullptr) {
    const ExitStatus status = process_->join();
    forget();
    return status;
  }
  // Half the iteration's limit, so the child is named before the iteration counts as hung.
  const std::uint64_t timeout_ms = std::max<std::uint64_t>(run->options.stress_timeout_ms / 2, 1);
  bool timed_out = false;
  ExitStatus status;
  if (auto finished = process_->join_for(std::chrono::milliseconds(timeout_ms))) {
    status = *finished;
  } else {
    timed_out = true;
    if (!process_->exit_status()) process_->kill(SIGKILL);
    status = process_->join();
  }
  forget();
  if (!timed_out && status.success()) return status;

  const auto* box = static_cast<const detail::perturb::Mailbox*>(mailbox_.data());
  const std::string said(box->text, box->length);
  std::string message;
  if (timed_out) {
    message = absl::StrCat("still running ", timeout_ms,
                           " ms after join() began (deadlocked, or waiting for something that never came); "
                           "killed it");
  } else if (status.exited && status.code == kFailedExitCode && !said.empty()) {
    message = said;
  } else {
    message = status.describe();
    if (status.exited && status.code == 66 && INTERLEAVE_TSAN) {
      absl::StrAppend(&message, " (ThreadSanitizer's exit code: its report is above)");
    }
    if (!said.empty()) absl::StrAppend(&message, ": ", said);
  }
  const std::string who = absl::StrCat("process '", role_, "' (pid ", pid, ")");
  if (current.mailbox != nullptr) {  // this is itself a child: hand the failure up
    detail::perturb::post(current.mailbox, absl::StrCat(who, ": ", message));
    throw StressAborted{};
  }
  detail::perturb::record(*run, StressFailure{StressFailureKind::process, message, detail::location_text(where), who});
  throw StressAborted{};
}

// --- the run ---------------------------------------------------------------------------------

std::string_view to_string(StressFailureKind kind) noexcept {
  switch (kind) {
    case StressFailureKind::assertion:
      return "ASSERTION FAILED";
    case StressFailureKind::exception:
      return "UNCAUGHT EXCEPTION";
    case StressFailureKind::process:
      return "CHILD PROCESS FAILED";
    case StressFailureKind::data_race:
      return "DATA RACE (ThreadSanitizer)";
    case StressFailureKind::hung:
      return "HUNG";
  }
  return "FAILURE";
}

namespace {

constexpr std::string_view kProbabilistic = "real threads: reproduction is probabilistic";

std::string reproduce_line(std::uint64_t iteration_seed, const std::string& command) {
  return absl::StrFormat("rerun with INTERLEAVE_SEED=0x%x (%s): INTERLEAVE_SEED=0x%x %s", iteration_seed,
                         kProbabilistic, iteration_seed, command);
}

std::uint32_t tsan_reports(const RunContext& run) noexcept { return run.tsan_reports; }

// Ends the program when an iteration outlives stress_timeout_ms: real threads cannot be
// cancelled. Synchronizes only with the thread that runs stress(), never with the body's threads.
class Watchdog {
 public:
  explicit Watchdog(RunContext& run) : run_(run), thread_([this] { loop(); }) {}
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  void arm(StressResult snapshot) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      armed_ = true;
      snapshot_ = std::move(snapshot);
      deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(run_.options.stress_timeout_ms);
    }
    wake_.notify_all();
  }
  void disarm() {
    const std::lock_guard<std::mutex> lock(mutex_);
    armed_ = false;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
      if (!armed_) {
        wake_.wait(lock);
      } else if (wake_.wait_until(lock, deadline_) == std::cv_status::timeout && armed_ && !stop_ &&
                 std::chrono::steady_clock::now() >= deadline_) {
        hung();
      }
    }
  }

  [[noreturn]] void hung() {
    StressResult report = snapshot_;
    std::optional<StressFailure> earlier;
    {
      const std::lock_guard<std::mutex> lock(run_.mutex);
      earlier = run_.failure;
    }
    if (earlier) {
      report.failure = std::move(earlier);
      absl::StrAppend(&report.failure->message, "\n  and then the iteration hung: still running after ",
                      run_.options.stress_timeout_ms, " ms");
    } else {
      report.failure = StressFailure{
          StressFailureKind::hung,
          absl::StrCat("the iteration was still running after ", run_.options.stress_timeout_ms,
                       " ms (INTERLEAVE_STRESS_TIMEOUT_MS): a deadlock, a lost wake-up, or a thread waiting for "
                       "something that never came; real threads cannot be cancelled, so the program exits"),
          "", "the iteration"};
    }
    const std::string text = report.report();
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
    for (auto& child : run_.children) {
      const pid_t pid = child.load(std::memory_order_relaxed);
      if (pid <= 0) continue;
      ::kill(pid, SIGKILL);
      while (waitpid(pid, nullptr, 0) == -1 && errno == EINTR) {
      }
    }
    std::_Exit(kHungExitCode);
  }

  RunContext& run_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool armed_ = false;
  bool stop_ = false;
  StressResult snapshot_;
  std::chrono::steady_clock::time_point deadline_;
  std::thread thread_;
};

void format_hook_text(RunContext& run, const StressResult& result) {
  const std::string head = absl::StrFormat(
      "interleave: ThreadSanitizer reported during stress iteration %d of %d (seed 0x%x, iteration seed 0x%x), in ",
      result.iteration, result.iterations_planned, result.seed, result.iteration_seed);
  const std::string tail = absl::StrCat("\n", reproduce_line(result.iteration_seed, result.reproduce), "\n");
  run.hook_head_length = std::min(head.size(), sizeof run.hook_head);
  std::memcpy(run.hook_head, head.data(), run.hook_head_length);
  run.hook_tail_length = std::min(tail.size(), sizeof run.hook_tail);
  std::memcpy(run.hook_tail, tail.data(), run.hook_tail_length);
}

// Runs one iteration of `body` on the calling thread as the "main thread", recording into `run`
// whatever escapes it: an assertion (already recorded where it was thrown), an exception, a
// foreign assertion (RC_ASSERT...).
void run_iteration(RunContext& run, const std::function<void()>& body) {
  detail::perturb::Seed seed;
  seed.seed = run.iteration_seed;
  seed.rates = run.options.perturbation;
  seed.run = &run;
  detail::perturb::copy_name(seed.name, "main thread");
  const detail::perturb::Installed installed(seed);
  try {
    body();
  } catch (const StressAborted&) {
    // recorded where it was thrown
  } catch (const std::exception& e) {
    detail::perturb::record(
        run, StressFailure{StressFailureKind::exception, absl::StrCat("an exception escaped the body: ", e.what()), "",
                           "main thread"});
  } catch (...) {
    if (std::optional<std::string> assertion = detail::describe_foreign_assertion(std::current_exception())) {
      detail::perturb::record(run, StressFailure{StressFailureKind::assertion, *assertion, "", "main thread"});
    } else {
      detail::perturb::record(run, StressFailure{StressFailureKind::exception,
                                                 "an exception of unknown type escaped the body", "", "main thread"});
    }
  }
}

// Before an iteration: the text the TSan hook prints, and the report the watchdog prints if the
// iteration hangs (both name the iteration about to run).
void arm_for_iteration(RunContext& run, Watchdog& watchdog, const StressResult& result,
                       const std::string& reproduce_command, std::chrono::milliseconds elapsed) {
  StressResult snapshot = result;
  snapshot.reproduce = reproduce_command;
  format_hook_text(run, snapshot);
  snapshot.reproduce = reproduce_line(result.iteration_seed, reproduce_command);
  snapshot.elapsed = elapsed;
  watchdog.arm(std::move(snapshot));
}

}  // namespace

namespace detail {

bool stress_active() noexcept { return current.run != nullptr || current.mailbox != nullptr; }

void stress_assertion_failed(std::string message, interleave::source_location where) {
  const std::string at = location_text(where);
  if (current.mailbox != nullptr) {  // in a child process: tell the parent
    const std::string text = at.empty() ? message : absl::StrCat(message, " at ", at);
    perturb::post(current.mailbox, text);
    std::fprintf(stderr, "interleave: %s (pid %d): %s\n", current.name, getpid(), text.c_str());
    throw StressAborted{};
  }
  perturb::record(*current.run, StressFailure{StressFailureKind::assertion, std::move(message), at, current.name});
  throw StressAborted{};
}

StressResult stress_function(Options options, const std::function<void()>& body, std::string reproduce_command) {
  if (detail::model::active()) {
    throw std::logic_error(absl::StrCat("interleave: stress() was called inside an explored body (fiber ",
                                        detail::model::current_fiber(), "); run it outside explore()"));
  }
  options.apply_environment();
  if (reproduce_command.empty()) reproduce_command = program_command_line();

  auto run = std::make_unique<RunContext>();
  run->options = options;
  StressResult result;
  result.configuration = options.describe();
  result.seed = options.seed;
  result.iterations_planned = options.stress_iterations;

  RunContext* const outer = perturb::g_run;
  perturb::g_run = run.get();
  struct Restore {
    RunContext* outer;
    ~Restore() { perturb::g_run = outer; }
  } restore{outer};

  Watchdog watchdog(*run);
  const auto began = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
  };
  for (std::uint64_t i = 0; i < options.stress_iterations; ++i) {
    if (i > 0 && options.stress_milliseconds > 0 &&
        elapsed() >= std::chrono::milliseconds(options.stress_milliseconds)) {
      result.out_of_time = true;
      break;
    }
    const std::uint64_t iteration_seed = options.seed + i * perturb::kGolden;
    run->iteration = i;
    run->iteration_seed = iteration_seed;
    result.iteration = i;
    result.iteration_seed = iteration_seed;
    result.iterations_run = i + 1;
    arm_for_iteration(*run, watchdog, result, reproduce_command, elapsed());
    run_iteration(*run, body);
    watchdog.disarm();
    if (tsan_reports(*run) > 0) {
      perturb::record(*run, StressFailure{StressFailureKind::data_race,
                                          "ThreadSanitizer reported a data race (its report is above)", "", ""});
    }
    if (run->failed.load(std::memory_order_relaxed)) {
      const std::lock_guard<std::mutex> lock(run->mutex);
      result.failure = run->failure;
      break;
    }
  }
  result.elapsed = elapsed();
  if (result.failure) result.reproduce = reproduce_line(result.iteration_seed, reproduce_command);
  return result;
}

}  // namespace detail

std::string StressResult::report() const {
  if (!failure) {
    return absl::StrFormat("interleave: stress passed %d of %d iterations in %d ms%s (%s)\n", iterations_run,
                           iterations_planned, elapsed.count(), out_of_time ? ", when its time budget ran out" : "",
                           configuration);
  }
  std::string out =
      absl::StrFormat("interleave: %s in stress iteration %d of %d (seed 0x%x, iteration seed 0x%x)\n",
                      std::string(to_string(failure->kind)), iteration, iterations_planned, seed, iteration_seed);
  absl::StrAppend(&out, "  ", failure->message, "\n");
  if (!failure->thread.empty() || !failure->where.empty()) {
    absl::StrAppend(&out, "  in ", failure->thread.empty() ? "an unknown thread" : failure->thread,
                    failure->where.empty() ? "" : absl::StrCat(", ", failure->where), "\n");
  }
  absl::StrAppend(&out, "  configuration: ", configuration, "\n");
  absl::StrAppend(&out, "  ", std::string(kProbabilistic),
                  ": rerunning the iteration seed repeats that iteration's perturbation first, which raises the "
                  "chance of seeing the failure again; it does not guarantee it\n");
  absl::StrAppend(&out, "reproduce: ", reproduce, "\n");
  return out;
}

}  // namespace interleave
