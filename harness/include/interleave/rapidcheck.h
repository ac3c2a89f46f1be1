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
#pragma once

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/shrinkable/Operations.h>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "interleave/explore.h"
#include "interleave/gtest.h"
#include "interleave/regressions.h"
#include "interleave/stress.h"

namespace rc::detail {
// Defined in librapidcheck (its src/detail/StringSerialization.cpp) but not declared by the
// installed headers of Debian's librapidcheck-dev 0~1033: the functions behind RC_PARAMS="reproduce=...".
// Using them, a regression file holds exactly the string RapidCheck prints for a failure and accepts
// in RC_PARAMS, so a recorded case can also be pasted there. Both throw (a std::exception) on a
// string that is not one.
std::string reproduceMapToString(const std::unordered_map<std::string, Reproduce>& reproduceMap);
std::unordered_map<std::string, Reproduce> stringToReproduceMap(const std::string& str);
}  // namespace rc::detail

namespace interleave {

namespace detail {
// The report of the last failing check_schedules / check_stress on this thread. RapidCheck runs a
// case again to describe it after shrinking; on real threads that run may pass, and its description
// ("no exceptions thrown") would replace the report of the run that failed. check_property keeps
// the report from here instead.
inline std::string& last_failure_report() {
  thread_local std::string report;
  return report;
}

template <class R>
[[noreturn]] void fail_case(const R& result) {
  last_failure_report() = result.report();
  RC_FAIL(last_failure_report());
}

// RC_ASSERT*, RC_FAIL and RC_PRE throw RapidCheck's case result, not a std::exception. Inside an
// explored body or a stress run, a failure is an assertion with RapidCheck's message; a discard or
// success cannot end the case from there (the schedule is not the case), so it is named as misuse.
inline std::optional<std::string> describe_rapidcheck_result(const std::exception_ptr& exception) {
  try {
    std::rethrow_exception(exception);
  } catch (const rc::detail::CaseResult& result) {
    switch (result.type) {
      case rc::detail::CaseResult::Type::Failure:
        return result.description;
      case rc::detail::CaseResult::Type::Discard:
        return "RC_PRE / RC_DISCARD inside an explored body or stress run (" + result.description +
               "): they discard a RapidCheck case, which only the property itself can do; check the "
               "precondition before check_schedules / check_stress";
      case rc::detail::CaseResult::Type::Success:
        return "RC_SUCCEED inside an explored body or stress run (" + result.description +
               "): only the property itself can end its case; return from the body instead";
    }
  } catch (...) {
  }
  return std::nullopt;
}
inline const bool rapidcheck_results_described = add_foreign_assertion_describer(&describe_rapidcheck_result);
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
  if (result.failed()) detail::fail_case(result);
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
  if (result.failed()) detail::fail_case(result);
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

// The line of a RapidCheck failure description that starts with `prefix` (from the prefix on), or
// the description's first non-empty line when none does.
inline std::string description_line(const std::string& description, std::string_view prefix) {
  std::istringstream lines(description);
  std::string line;
  std::string first;
  while (std::getline(lines, line)) {
    const auto at = line.find(prefix);
    if (!prefix.empty() && at != std::string::npos) return line.substr(at);
    if (first.empty() && line.find_first_not_of(" \t") != std::string::npos) first = line;
  }
  return first;
}

inline std::string example_text(const rc::detail::Example& example) {
  std::string out;
  for (const auto& [type, value] : example) {
    if (!out.empty()) out += "; ";
    out += type + ": " + value;
  }
  return out;
}

// Replays the recorded case `c` of the property; returns a failure message, or empty when it passes.
template <class Testable>
std::string replay_recorded_case(const Testable& testable, const std::string& test_id, const std::string& where,
                                 const RegressionCase& c) {
  std::unordered_map<std::string, rc::detail::Reproduce> recorded;
  try {
    recorded = rc::detail::stringToReproduceMap(c.value);
  } catch (const std::exception& e) {
    return where + ": '" + c.value + "' is not a RapidCheck reproduce string (" + e.what() +
           "); accepted: the string RapidCheck prints after RC_PARAMS=\"reproduce=";
  }
  // The case of this test; a string holding one case (a renamed test's) is taken as it is.
  auto it = recorded.find(test_id);
  if (it == recorded.end() && recorded.size() == 1) it = recorded.begin();
  if (it == recorded.end()) return where + ": the reproduce string holds no case of " + test_id;
  const rc::detail::Reproduce& reproduce = it->second;
  // What RapidCheck does for RC_PARAMS="reproduce=...": generate with the recorded random state and
  // size, then follow the recorded shrink path to the minimal failing case.
  const rc::detail::Property property = rc::detail::toProperty(testable);
  const auto generated = property(reproduce.random, reproduce.size);
  const auto shrunk = rc::shrinkable::walkPath(generated, reproduce.shrinkPath);
  if (!shrunk) {
    return where +
           ": the recorded case no longer fits the property's generators (its shrink path leads nowhere); "
           "delete the line, or restore the generators it was recorded with";
  }
  const rc::detail::CaseDescription outcome = shrunk->value();
  if (outcome.result.type != rc::detail::CaseResult::Type::Failure) return {};
  std::string message = "recorded regression " + where + " fails again";
  if (outcome.example) message += "\n" + example_text(outcome.example());
  message += "\n" + outcome.result.description + "\nreproduce: RC_PARAMS=\"reproduce=" + c.value + "\" " +
             current_test_command();
  return message;
}

// RapidCheck describes a failure by running its shrunk case once more. When that run passed (real
// threads: the failure is likely, not certain), the description is a success's; put back the
// report of the run that failed, which was the last failure seen (shrinking adopts each failing
// candidate, and then tries only candidates that passed).
inline void keep_failing_report(rc::detail::FailureResult& failure) {
  const std::string& report = last_failure_report();
  if (report.empty() || failure.description.find(report) != std::string::npos) return;
  failure.description =
      "the case passed when run again to describe it (real threads are not deterministic); "
      "the report of the run that failed:\n" +
      report;
}

// INTERLEAVE_PROPERTY's test body: replay the recorded cases, check, record a new failure.
template <class Testable>
void check_property(const Testable& testable, const std::string& default_directory) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string suite = info->test_suite_name();
  const std::string name = info->name();
  rc::detail::TestMetadata metadata;
  metadata.id = suite + "/" + name;  // as RC_GTEST_PROP names it, so RC_PARAMS="reproduce=..." applies
  metadata.description = name;

  Options settings;
  std::optional<std::string> directory;
  try {
    settings.apply_environment();
    directory = regression_directory(settings, default_directory);
  } catch (const std::exception& e) {
    FAIL() << e.what();
  }
  // Reproducing one failure (RC_PARAMS="reproduce=..." or INTERLEAVE_REPLAY): the recorded cases
  // would run first and could fail first, so they wait; a failure under a forced schedule token is
  // not RapidCheck's case alone, so it is not recorded.
  const bool reproducing = !rc::detail::configuration().reproduce.empty() || !settings.replay.empty();
  if (!settings.replay.empty()) directory.reset();
  std::string path;
  if (directory) path = regression_file_path(*directory, suite);
  if (directory && !reproducing) {
    RegressionFile file;
    try {
      file = RegressionFile::load(path);
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    for (const RegressionCase& c : file.cases_of(name)) {
      const std::string where = regression_location(path, c.line);
      if (c.kind != RegressionKind::rapidcheck) {
        FAIL() << "interleave: " << where << ": " << name << " is an INTERLEAVE_PROPERTY; its cases are '" << name
               << " rc <RapidCheck reproduce string>' lines, not '" << to_string(c.kind) << "'";
      }
      const std::string failure = replay_recorded_case(testable, metadata.id, where, c);
      if (!failure.empty()) FAIL() << failure;
    }
  }

  last_failure_report().clear();
  rc::detail::TestResult result = rc::detail::checkTestable(testable, metadata);
  if (result.template is<rc::detail::FailureResult>())
    keep_failing_report(result.template get<rc::detail::FailureResult>());
  if (result.template is<rc::detail::SuccessResult>()) {
    if (!result.template get<rc::detail::SuccessResult>().distribution.empty()) {
      rc::detail::printResultMessage(result, std::cout);
      std::cout << std::endl;
    }
    return;
  }
  std::ostringstream out;
  rc::detail::printResultMessage(result, out);
  if (result.template is<rc::detail::FailureResult>()) {
    const auto& failure = result.template get<rc::detail::FailureResult>();
    RegressionCase c;
    c.test = name;
    c.kind = RegressionKind::rapidcheck;
    c.value = rc::detail::reproduceMapToString({{metadata.id, failure.reproduce}});
    out << "\nreproduce: RC_PARAMS=\"reproduce=" << c.value << "\" " << current_test_command();
    if (!directory) {
      FAIL() << out.str();
    }
    std::vector<std::string> comments = {utc_timestamp() + " " + suite + "." + name,
                                         description_line(failure.description, "interleave: ")};
    if (!failure.counterExample.empty()) comments.push_back(example_text(failure.counterExample));
    const std::string replay = description_line(failure.description, "INTERLEAVE_REPLAY=");
    if (replay.rfind("INTERLEAVE_REPLAY=", 0) == 0)
      comments.push_back("schedule: " + replay.substr(0, replay.find(' ')));
    try {
      const AppendedRegression appended = append_regression(path, c, comments);
      out << "\n"
          << (appended.added ? "new failure recorded as a regression at " : "already recorded as a regression at ")
          << regression_location(path, appended.line)
          << (appended.added ? " (check the file in: it is replayed first on every run)" : "");
    } catch (const std::exception& e) {
      out << "\ncould not record it as a regression: " << e.what();
    }
  }
  FAIL() << out.str();
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
