// stress(): run a test body many times on real threads (and real processes) of the Perturbed
// platform, and report the first failure with the seed that perturbed it.
//
//   auto result = interleave::stress(options, []<interleave::Platform P>() {
//     interleave::BasicMutex<P> m; int counter = 0;
//     auto work = [&] { for (int i = 0; i < 1000; ++i) { std::lock_guard g(m); ++counter; } };
//     interleave::BasicThread<P> a(work), b(work);
//     a.start(); b.start(); a.join(); b.join();
//     INTERLEAVE_ASSERT(counter == 2000);
//   });
//   if (result.failed()) std::cerr << result.report();
//
// The body is the same platform-generic template lambda explore() takes; stress() calls it with
// P = PerturbedPlatform<> (perturbed_platform.h) for Options::stress_iterations iterations, or
// until Options::stress_milliseconds is spent, each iteration perturbed with its own seed.
//
// What fails a run (the first failure wins; the others are not reported):
//   - INTERLEAVE_ASSERT in any thread the body started through BasicThread<P> (the failing
//     thread unwinds; BasicThread::join rethrows in the joining thread, and so on up to the body);
//   - an exception escaping the body;
//   - a child process (P::Process) that failed: see PerturbedProcess;
//   - a ThreadSanitizer report (TSan builds): the seed line is printed from TSan's report hook,
//     right after the report. With halt_on_error=1 (the tsan preset) TSan then ends the program
//     with its exit code (66); otherwise the iteration is failed when it ends;
//   - an iteration still running after Options::stress_timeout_ms (a deadlock, a lost wake-up):
//     real threads cannot be cancelled, so the report is printed, the iteration's child processes
//     are killed, and the program exits with kHungExitCode.
// Reproducing: a failure on real threads depends on timing the seed does not control. Rerunning
// with INTERLEAVE_SEED=<the printed iteration seed> repeats that iteration's perturbation first,
// which raises the chance of seeing the failure again; it does not guarantee it.
//
// GoogleTest's EXPECT_*/ASSERT_* work in a stress body (they are thread-safe) but do not stop the
// run or name the seed: prefer INTERLEAVE_ASSERT.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include "interleave/explore.h"  // INTERLEAVE_ASSERT
#include "interleave/options.h"
#include "interleave/perturbed_platform.h"
#include "interleave/source_location.h"

namespace interleave {

enum class StressFailureKind {
  assertion,  // INTERLEAVE_ASSERT failed
  exception,  // an exception escaped the body
  process,    // a child process failed (assertion, exception, crash, non-zero exit, timeout)
  data_race,  // ThreadSanitizer reported (with halt_on_error=0; otherwise TSan ends the program)
  hung,       // an iteration outlived stress_timeout_ms (printed; the program then exits)
};

std::string_view to_string(StressFailureKind kind) noexcept;

struct StressFailure {
  StressFailureKind kind = StressFailureKind::assertion;
  std::string message;
  std::string where;   // "file:line" when known
  std::string thread;  // "main thread", "thread 2", "process 'consumer' (pid 1234)"
};

// What stress() found. interleave::Result (explore.h) describes schedules, steps and preemptions
// of the model; a stress run has iterations and seeds instead, hence its own type.
class StressResult {
 public:
  [[nodiscard]] bool failed() const noexcept { return failure.has_value(); }
  [[nodiscard]] bool passed() const noexcept { return !failed(); }

  // The failure, where, the iteration and its seed, the configuration, and the line to rerun
  // it; for a pass, a one-line summary.
  [[nodiscard]] std::string report() const;
  friend std::ostream& operator<<(std::ostream& out, const StressResult& r) { return out << r.report(); }

  std::optional<StressFailure> failure;
  std::uint64_t iterations_run = 0;
  std::uint64_t iterations_planned = 0;
  bool out_of_time = false;          // stopped by Options::stress_milliseconds
  std::uint64_t seed = 0;            // Options::seed
  std::uint64_t iteration = 0;       // the failing iteration (or the last one run)
  std::uint64_t iteration_seed = 0;  // its perturbation seed: seed + iteration * 0x9e3779b97f4a7c15
  std::chrono::milliseconds elapsed{0};
  std::string configuration;  // Options::describe()
  // "rerun with INTERLEAVE_SEED=<iteration seed> (real threads: reproduction is probabilistic):
  // INTERLEAVE_SEED=<iteration seed> <command>"; empty for a pass.
  std::string reproduce;
};

// The exit code of a program whose stress iteration hung (see above).
inline constexpr int kHungExitCode = 124;

namespace detail {

// Runs `body` as stress() describes. `reproduce_command` is what follows INTERLEAVE_SEED=<seed>
// in the reproduce line (empty: this program's command line).
StressResult stress_function(Options options, const std::function<void()>& body, std::string reproduce_command);

template <class Body>
std::function<void()> stress_body(Body& body) {
  static_assert(
      requires { body.template operator()<PerturbedPlatform<>>(); },
      "stress: the body must be a template lambda []<interleave::Platform P>() {...}");
  return [&body] { body.template operator()<PerturbedPlatform<>>(); };
}

// True while the calling thread runs inside a stress run (or a child process of one).
bool stress_active() noexcept;
// Records an INTERLEAVE_ASSERT failure of the current stress run (the first failure wins) and
// unwinds the calling thread; in a child process, hands the message to the parent and unwinds.
[[noreturn]] void stress_assertion_failed(std::string message, interleave::source_location where);

}  // namespace detail

// ThreadSanitizer's report hook: prints the current stress run's seed line (to stderr, with
// write(2)) and counts the report against the run; does nothing outside a stress run and in
// builds without TSan. The library defines `__tsan_on_report` WEAKLY as a call to this. A program
// that defines its own `__tsan_on_report` replaces that definition; to keep the seed lines it
// calls this from its hook (see docs/stress.md, "ThreadSanitizer", also for clang's static TSan
// runtime, whose own default hook is linked ahead of the library's):
//
//   extern "C" __attribute__((no_sanitize("thread"))) void __tsan_on_report(void* report) {
//     my_hook(report);
//     interleave::on_tsan_report(report);
//   }
void on_tsan_report(void* report) noexcept;

// Throws std::invalid_argument when an INTERLEAVE_* variable is unknown or malformed.
template <class Body>
StressResult stress(const Options& options, Body&& body, const std::string& reproduce_command = {}) {
  return detail::stress_function(options, detail::stress_body(body), reproduce_command);
}

}  // namespace interleave
