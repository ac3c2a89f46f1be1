// RapidCheck integration: explore schedules inside a RapidCheck property.
//
//   RC_GTEST_PROP(Queue, NothingLost, ()) {
//     const auto scenario = *generate_scenario();      // threads, operations, items...
//     interleave::check_schedules([&]<interleave::Platform P>() { run(scenario) under P });
//   }
//
// check_stress(body) is the same property on real threads (interleave::stress, stress.h): the
// body runs a few perturbed iterations per generated scenario, each from a seed RapidCheck draws.
// Real threads are not deterministic: the reproduce string repeats the scenario and the
// perturbation seeds, which makes the failure likely again, not certain.
//
// The exploration seed is drawn from RapidCheck's random source, so RapidCheck's reproduce string
// (RC_PARAMS="reproduce=...") replays the scenario and its schedules together, and RapidCheck
// shrinks the scenario (fewer threads, fewer operations) while the failure persists. A failing
// exploration fails the property with interleave's full report.
//
// INTERLEAVE_PROPERTY(Suite, Name, (args)) { ... } defines the property as a GoogleTest test, as
// RC_GTEST_PROP does, and keeps its failing cases in the suite's regression file (regressions.h):
//   1. it reads <directory>/<Suite>.txt and replays every case recorded for this test first; one
//      that fails again fails the test, naming the file:line of the recorded regression;
//   2. then it runs RapidCheck's usual check (RC_PARAMS applies);
//   3. a new failure's reproduce string (scenario and exploration seed together) is appended to the
//      file with a comment (date, test, interleave's failure summary and schedule token), and the
//      failure output says where.
// The directory: INTERLEAVE_REGRESSIONS=<directory>|off when set, else INTERLEAVE_REGRESSIONS_DIR
// when the test program is compiled with that definition, else regressions/ beside the source
// file. A check that is expected to fail (the zoo's) calls rc::check directly and records nothing.
//
// This header uses only RapidCheck's public API. What needs its internals (replaying a reproduce
// string, checking a property with a given id, describing RC_ASSERT's exception) lives in
// harness/rapidcheck/rapidcheck.cpp, the library interleave::rapidcheck: link it with this header.
// Its tests (RapidCheckGlue.*) fail if the RapidCheck behaviour it relies on changes.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "interleave/explore.h"
#include "interleave/gtest.h"
#include "interleave/regressions.h"
#include "interleave/stress.h"

namespace interleave {

namespace detail {
// Fails the current RapidCheck case with `report`, kept as the report of the last failing
// check_schedules / check_stress on this thread: RapidCheck runs a case again to describe it after
// shrinking; on real threads that run may pass, and its description ("no exceptions thrown")
// would replace the report of the run that failed, so check_property puts this one back.
[[noreturn]] void fail_case(std::string report);
// A failing exploration's report as a property shows it. Its reproduce line
// ("reproduce: INTERLEAVE_REPLAY=<token> <command>") would, run alone, generate new scenarios,
// so it becomes "schedule: INTERLEAVE_REPLAY=<token> ..."; the property's one reproduce line
// (INTERLEAVE_PROPERTY) then carries RapidCheck's case and this schedule together.
std::string schedule_report_in_property(const std::string& report);

// RC_ASSERT*, RC_FAIL and RC_PRE throw RapidCheck's case result, not a std::exception. Registers
// the describer that makes them, inside an explored body or a stress run, an assertion with
// RapidCheck's message (a discard or success cannot end the case from there: named as misuse).
bool add_rapidcheck_describer() noexcept;
inline const bool rapidcheck_results_described = add_rapidcheck_describer();
}  // namespace detail

// The settings a property runs each generated scenario with: 40 schedules (a property's hundred
// scenarios make 4000), or 8 perturbed iterations and no new one after 40 ms on real threads, so
// that a property stays within a few seconds, sanitizers included. Everything else as Options{}.
// check_schedules(body) and check_stress(body) use exactly these; to change one setting, start
// from them: auto o = interleave::property_options(); o.strategy = Strategy::pct;
// check_schedules(o, body). The INTERLEAVE_* variables override them as they override any Options.
inline constexpr std::uint64_t kSchedulesPerScenario = 40;
inline constexpr std::uint64_t kStressIterationsPerScenario = 8;
inline constexpr std::uint64_t kStressMillisecondsPerScenario = 40;

inline Options property_options() {
  Options o;
  o.schedules = kSchedulesPerScenario;
  o.stress_iterations = kStressIterationsPerScenario;
  o.stress_milliseconds = kStressMillisecondsPerScenario;
  return o;
}

// Explores `body` with `options` (its seed drawn from RapidCheck, so the reproduce string repeats
// it); a failing schedule fails the property with interleave's report. In the body, GoogleTest
// assertions (EXPECT_*, ASSERT_*) and RapidCheck's RC_ASSERT* / RC_FAIL fail the schedule as
// INTERLEAVE_ASSERT does, with their message.
template <class Body>
void check_schedules(Options options, Body&& body) {
  options.seed = *rc::gen::arbitrary<std::uint64_t>().as("interleave seed");
  const std::function<void()> model = detail::model_body(body);
  const Result result = detail::explore_function(
      std::move(options), model, detail::current_test_command(),
      [] { return std::unique_ptr<detail::FailureProbe>(new detail::GtestFailureProbe); },
      std::getenv("GTEST_TOTAL_SHARDS") != nullptr);
  if (result.failed()) detail::fail_case(detail::schedule_report_in_property(result.report()));
}
template <class Body>
void check_schedules(Body&& body) {
  check_schedules(property_options(), std::forward<Body>(body));
}

// Runs `body` on real threads, perturbed, `options.stress_iterations` times (seeds drawn from
// RapidCheck); a failure fails the property with the stress report.
template <class Body>
void check_stress(Options options, Body&& body) {
  options.seed = *rc::gen::arbitrary<std::uint64_t>().as("stress seed");
  const StressResult result = stress(options, std::forward<Body>(body), detail::current_test_command());
  if (result.failed()) detail::fail_case(result.report());
}
template <class Body>
void check_stress(Body&& body) {
  check_stress(property_options(), std::forward<Body>(body));
}

// The two ways a property runs its generated scenario, for helpers written once for both:
//   template <class Check> void fifo(Check check) { check(scenarios::fifo<RealQueue>(*gen())); }
//   fifo(in_model); fifo(on_real_threads);
inline constexpr auto in_model = [](auto&& body) { check_schedules(std::forward<decltype(body)>(body)); };
inline constexpr auto on_real_threads = [](auto&& body) { check_stress(std::forward<decltype(body)>(body)); };

namespace detail {

// A RapidCheck property with no parameters, as rc::check takes one.
using ErasedProperty = std::function<void()>;
}  // namespace detail

// What property_fails expects of the failure.
struct ExpectedFailure {
  // Text the failure's message must contain (empty: any failure), e.g. "history not linearizable",
  // so that the test does not pass on a failure other than the one it is about.
  std::string reason;
  // Runs of the property, each from the next RapidCheck seed, until one fails: for a bug that
  // only a few scenario shapes show. >= 1.
  int runs = 1;
};

// For a test that states the verdict it expects ("this broken queue must fail"): checks `property`
// as rc::check does, and succeeds when it fails as `expected` says. The failure found is printed
// as one line (its kind and where it was found) instead of RapidCheck's full report, which
// INTERLEAVE_EXPECTED_FAILURE_REPORTS=on prints as well. When the property passes every case of
// every run, or fails without the expected reason, the result is a failure saying so.
//   EXPECT_TRUE(interleave::property_fails("check-then-set mutex", [] { mutual_exclusion<Broken>(); }));
::testing::AssertionResult property_fails(const std::string& name, const detail::ErasedProperty& property,
                                          const ExpectedFailure& expected = {});

namespace detail {
// A property as RapidCheck runs it, with no parameters: a property with parameters draws them as
// one tuple, exactly as RapidCheck draws a property's arguments, so a case's reproduce string is
// the same either way.
using ErasedProperty = std::function<void()>;

template <class... Args>
ErasedProperty erase_property(void (*property)(Args...)) {
  if constexpr (sizeof...(Args) == 0) {
    return property;
  } else {
    return [property] { std::apply(property, *rc::gen::arbitrary<std::tuple<std::decay_t<Args>...>>()); };
  }
}

// INTERLEAVE_PROPERTY's test body (rapidcheck.cpp): replay the cases recorded in the suite's
// regression file, check the property, record a new failure.
void check_erased_property(const ErasedProperty& property, const std::string& default_directory);

template <class... Args>
void check_property(void (*property)(Args...), const std::string& default_directory) {
  check_erased_property(erase_property(property), default_directory);
}
// A property with no parameters may be any callable returning nothing.
template <class Property>
requires std::is_void_v<std::invoke_result_t<const Property&>>
void check_property(const Property& property, const std::string& default_directory) {
  check_erased_property(ErasedProperty(property), default_directory);
}

}  // namespace detail
}  // namespace interleave

// A RapidCheck property as a GoogleTest test (like RC_GTEST_PROP) whose failing cases are kept in
// the suite's regression file and replayed first on every run (see the top of this file).
#define INTERLEAVE_PROPERTY(Suite, Name, ArgList)                                    \
  static void interleave_property_##Suite##_##Name ArgList;                          \
  TEST(Suite, Name) {                                                                \
    ::interleave::detail::check_property(&interleave_property_##Suite##_##Name,      \
                                         INTERLEAVE_DETAIL_REGRESSIONS_DIRECTORY()); \
  }                                                                                  \
  static void interleave_property_##Suite##_##Name ArgList
