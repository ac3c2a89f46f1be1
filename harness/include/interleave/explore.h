// explore(): run a test body under many controlled schedules and report the first failure with a
// line that reproduces it exactly.
//
//   interleave::Options options;                       // or defaults + INTERLEAVE_* variables
//   auto result = interleave::explore(options, []<interleave::Platform P>() {
//     interleave::BasicMutex<P> m; int counter = 0;
//     interleave::BasicThread<P> t([&] { std::lock_guard g(m); ++counter; });
//     t.start(); { std::lock_guard g(m); ++counter; } t.join();
//     INTERLEAVE_ASSERT(counter == 2);
//   });
//   if (result.failed()) std::cerr << result.report();
//
// The body is written once, generic over the platform (a template lambda taking the platform as
// its template parameter; a plain lambda also works when it names ModelPlatform itself), so the
// same body can run on real threads. It runs from scratch for every schedule: build its state
// inside it. Generate inputs outside; assert after joins.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "interleave/detail/model_runtime.h"
#include "interleave/model_platform.h"
#include "interleave/options.h"
#include "interleave/schedule.h"
#include "interleave/source_location.h"

namespace interleave {

std::string_view to_string(FailureKind kind) noexcept;

// Thrown by explore() when the replay token in force (Options::replay, INTERLEAVE_REPLAY) does not
// fit the test: its fingerprint differs from the run's first scheduling points, or one of its
// listed choices was never reached or names a position the decision did not have (schedule.h).
// The message names what the token recorded and what this test did, and what to do instead.
class ReplayMismatch : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// One scheduling point of a schedule, as a report shows it.
struct StepRecord {
  std::uint64_t step = 0;
  std::uint32_t fiber = 0;
  std::string fiber_name;    // interleave::name_this_thread / Thread(target, name); may be empty
  std::string what;          // "atomic load", "futex wait", "spawn fiber 2", ...
  std::uint32_t object = 0;  // objects are numbered by first appearance in the schedule; 0 = none
  std::string object_name;   // interleave::name(object, name), "queue" or "queue+16"; may be empty
  std::string operation;     // the primitive operation in progress, e.g. "Mutex::lock"; may be empty
  std::string where;         // "file:line" of that operation's call site; may be empty
  // Just before this step the scheduler preempted `preempted` (switched away from it while it
  // could still run); `resumes_at` is the step at which it next ran (0: it never ran again).
  std::optional<std::uint32_t> preempted;
  std::uint64_t resumes_at = 0;
};

struct Failure {
  FailureKind kind = FailureKind::assertion;
  std::string message;
  std::string where;  // "file:line" where it was detected
  // The user's frames that led there, where the report's run could find them: ", called from
  // file:line, from file:line" (at most two), else empty. Not part of what makes two failures the
  // same bug: exploring runs do not look for it.
  std::string call_chain;
  std::uint32_t fiber = 0;
  std::string fiber_name;  // the name the failing fiber was given; may be empty
  std::uint64_t step = 0;
};

class Result {
 public:
  [[nodiscard]] bool failed() const noexcept { return failure.has_value(); }
  [[nodiscard]] bool passed() const noexcept { return !failed(); }

  // The full report: failure, schedule, steps, preemptions, the last steps, the configuration and
  // the one line that reproduces the failure. For a pass, a one-line summary.
  [[nodiscard]] std::string report() const;
  friend std::ostream& operator<<(std::ostream& out, const Result& r) { return out << r.report(); }

  std::optional<Failure> failure;
  std::uint64_t schedules_run = 0;
  std::uint64_t total_steps = 0;  // over all schedules run
  // Of those steps, the ones where the strategy chose among two or more runnable fibers (the
  // others were events, docs/harness.md, or had one fiber to run; a replayed choices token counts none).
  std::uint64_t total_choice_points = 0;
  // The failing schedule (or the last one run); its `test` fingerprint is recorded for a failing
  // schedule (and a replay), so schedule.token() replays it.
  ScheduleId schedule;
  std::uint64_t schedules_planned = 0;
  // Strategy::dpor: of the schedules_run executions, the complete ones (each a different
  // equivalence class of interleavings; the others were cut short as equivalent to one explored),
  // and whether the search explored every class (a proof, for this body at this size, under the
  // sequentially consistent model) rather than stopping at Options::schedules.
  std::uint64_t equivalence_classes = 0;
  bool exhausted = false;
  bool replayed = false;          // the run replayed one schedule (Options::replay)
  std::uint64_t steps = 0;        // of the failing schedule reported (the shrunk one, if shrunk)
  std::uint32_t preemptions = 0;  // of the failing schedule reported (the shrunk one, if shrunk)
  // The failing schedule found was shrunk to this simpler one (Options::shrink_runs), which the
  // report, the steps and the reproduce line describe; `schedule` is still the one found.
  std::optional<ScheduleId> shrunk;
  // The token the reproduce line names: the shrunk schedule's, if shrunk, else the one found.
  // Options::replay (INTERLEAVE_REPLAY) with it replays the failure the report describes.
  [[nodiscard]] std::string reproduce_token() const { return shrunk ? shrunk->token() : schedule.token(); }
  std::uint32_t found_preemptions = 0;  // of the schedule found
  std::uint64_t shrink_runs = 0;        // runs spent shrinking
  // The steps around each preemption that lies before `last_steps` (up to kPreemptionsShown,
  // the latest ones, with kStepsAroundPreemption steps on each side), then the last steps
  // (Options::report_steps). A preemption inside either list is marked on the step after it.
  static constexpr std::size_t kPreemptionsShown = 8;
  static constexpr std::size_t kStepsAroundPreemption = 3;
  std::vector<StepRecord> preemption_steps;
  std::vector<StepRecord> last_steps;
  // Under the weak memory model: each load of the reported schedule that read an older store than
  // the newest, in step order: "atomic load at x.cpp:12 (fiber 2, step #9) read the value stored
  // at step #4 by fiber 1, not the latest (step #7 by fiber 1): 1 store old".
  std::vector<std::string> stale_reads;
  std::string configuration;  // Options::describe()
  std::string reproduce;      // "INTERLEAVE_REPLAY=<token> <command>"
  // Options::trace_path set and a failure found: the trace files written (<name>.json, then
  // <name>.html), or why they could not be (the report then says so; nothing else is lost).
  std::vector<std::string> trace_files;
  std::string trace_error;
};

namespace detail {
// Finds failures outside the runtime (GoogleTest assertions) on one thread that runs schedules.
// explore_function makes one per such thread, for the duration of the exploration.
class FailureProbe {
 public:
  virtual ~FailureProbe() = default;
  // Asked whenever a fiber finishes: a non-empty answer fails the schedule with that message.
  virtual std::string poll() = 0;
};
using FailureProbeFactory = std::function<std::unique_ptr<FailureProbe>()>;

// Runs `body` under the schedules the options call for. `reproduce_command` is what follows the
// INTERLEAVE_REPLAY=<token> assignment in the reproduce line (empty: this program's command line).
// `make_probe`, when set, makes each exploring thread's FailureProbe. `runner_shards_tests`: the
// test runner already gives each shard a slice of the tests, so schedules are not split too.
Result explore_function(Options options, const std::function<void()>& body, std::string reproduce_command,
                        const FailureProbeFactory& make_probe = {}, bool runner_shards_tests = false);

template <class Body>
std::function<void()> model_body(Body& body) {
  if constexpr (requires { body.template operator()<ModelPlatform>(); }) {
    return [&body] { body.template operator()<ModelPlatform>(); };
  } else {
    static_assert(std::is_invocable_v<Body&>,
                  "explore: the body must be a template lambda []<class P>() {...} or callable with no arguments");
    return [&body] { body(); };
  }
}

// This program's command line, shell-quoted; optionally without --gtest_filter arguments.
std::string program_command_line(bool drop_gtest_filter = false);

[[noreturn]] void assertion_failed(const char* expression, interleave::source_location where,
                                   std::string_view message = {});

// Assertions of other libraries that throw something other than a std::exception (RapidCheck's
// RC_ASSERT throws its case result): a describer returns the failure's message for the exceptions
// it knows, nullopt for the others. A fiber or stress body ended by one fails as an assertion
// with that message, not as an "exception of unknown type". interleave/rapidcheck.h adds one.
using ForeignAssertionDescriber = std::optional<std::string> (*)(const std::exception_ptr&);
bool add_foreign_assertion_describer(ForeignAssertionDescriber describer) noexcept;
std::optional<std::string> describe_foreign_assertion(const std::exception_ptr& exception) noexcept;

// The clock the progress line (Options::progress) reads: std::chrono::steady_clock::now unless
// replaced. Tests install a fake one to drive its time without waiting. Returns the previous
// clock; set it only while no exploration runs.
using ProgressClock = std::chrono::steady_clock::time_point (*)();
ProgressClock set_progress_clock(ProgressClock clock) noexcept;
}  // namespace detail

// Throws std::invalid_argument when an INTERLEAVE_* variable is unknown or malformed, or the
// replay token is malformed; ReplayMismatch (a std::invalid_argument) when the replay token is
// well-formed but belongs to another test.
template <class Body>
Result explore(const Options& options, Body&& body) {
  return detail::explore_function(options, detail::model_body(body), {});
}

}  // namespace interleave

// INTERLEAVE_ASSERT(condition) or INTERLEAVE_ASSERT(condition, message): fails the current
// schedule when `condition` is false (inside an exploration), reporting the expression, the message
// (anything a std::string_view can be made from) and the source location with the reproduce line.
// In a stress run it fails the run the same way; elsewhere on real threads it prints the same and
// aborts.
#define INTERLEAVE_ASSERT(condition, ...)                                                                       \
  do {                                                                                                          \
    if (!(condition)) {                                                                                         \
      ::interleave::detail::assertion_failed(#condition,                                                        \
                                             interleave::source_location::current() __VA_OPT__(, __VA_ARGS__)); \
    }                                                                                                           \
  } while (false)
