// interleave::rapidcheck: the RapidCheck glue that needs RapidCheck's internals (rc::detail),
// kept out of the public header interleave/rapidcheck.h. What it relies on, each pinned by a
// RapidCheckGlue.* test (harness/tests/rapidcheck_glue_test.cpp) that fails if it changes:
//   - rc::detail::reproduceMapToString / stringToReproduceMap: the string RapidCheck prints after
//     RC_PARAMS="reproduce= and parses back (defined in librapidcheck, src/detail/
//     StringSerialization.cpp, but not declared by Debian's librapidcheck-dev 0~1033 headers);
//   - toProperty + walkPath: what RC_PARAMS="reproduce=..." does, replaying a recorded case;
//   - checkTestable with TestMetadata{id}: RC_PARAMS="reproduce=..." applies to the property whose
//     id is "<Suite>/<Name>", as for RC_GTEST_PROP;
//   - RC_ASSERT / RC_FAIL / RC_PRE / RC_SUCCEED throw rc::detail::CaseResult.
#include "interleave/rapidcheck.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/detail/TestListenerAdapter.h>
#include <rapidcheck/shrinkable/Operations.h>

#include <exception>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "glue.h"
#include "interleave/explore.h"
#include "interleave/regressions.h"

namespace interleave::detail {
namespace {

std::string& last_failure_report() {
  thread_local std::string report;
  return report;
}

std::optional<std::string> describe_rapidcheck_result(const std::exception_ptr& exception) {
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

// The line of a RapidCheck failure description that starts with `prefix` (from the prefix on), or
// the description's first non-empty line when none does.
std::string description_line(const std::string& description, std::string_view prefix) {
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

// The one line that replays a property's failing case: RapidCheck's reproduce string, and the
// schedule the case's exploration failed on when it names one, so that the replay explores
// nothing else.
std::string reproduce_line(const std::string& rapidcheck_value, const std::string& description) {
  std::string schedule = description_line(description, "schedule: INTERLEAVE_REPLAY=");
  if (schedule.rfind("schedule: INTERLEAVE_REPLAY=", 0) == 0) {
    schedule = schedule.substr(std::string_view("schedule: ").size());
    schedule = schedule.substr(0, schedule.find(' ')) + " ";
  } else {
    schedule.clear();
  }
  std::string line = "reproduce: RC_PARAMS=\"reproduce=";
  line.append(rapidcheck_value).append("\" ").append(schedule).append(current_test_command());
  return line;
}

std::string example_text(const rc::detail::Example& example) {
  std::string out;
  for (const auto& [type, value] : example) {
    if (!out.empty()) out += "; ";
    out += type + ": " + value;
  }
  return out;
}

}  // namespace

std::string replay_recorded_case(const ErasedProperty& testable, const std::string& test_id, const std::string& where,
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
  // Appended piece by piece: g++ 12 at -O3 misreads `"literal" + std::string&&` (-Wrestrict).
  std::string message = "recorded regression ";
  message.append(where).append(" fails again");
  if (outcome.example) message.append("\n").append(example_text(outcome.example()));
  message.append("\n").append(outcome.result.description).append("\n");
  message.append(reproduce_line(c.value, outcome.result.description));
  return message;
}

namespace {

// RapidCheck describes a failure by running its shrunk case once more. When that run passed (real
// threads: the failure is likely, not certain), the description is a success's; put back the
// report of the run that failed, which was the last failure seen (shrinking adopts each failing
// candidate, and then tries only candidates that passed).
void keep_failing_report(rc::detail::FailureResult& failure) {
  const std::string& report = last_failure_report();
  if (report.empty() || failure.description.find(report) != std::string::npos) return;
  failure.description =
      "the case passed when run again to describe it (real threads are not deterministic); "
      "the report of the run that failed:\n" +
      report;
}

// Replays the suite's recorded cases of the current test. Returns the failure of the first that
// fails again (or of a file that cannot be read), empty when all pass.
std::string replay_recorded_cases(const ErasedProperty& testable, const std::string& id, const std::string& path,
                                  const std::string& name) {
  RegressionFile file;
  try {
    file = RegressionFile::load(path);
  } catch (const std::exception& e) {
    return e.what();
  }
  for (const RegressionCase& c : file.cases_of(name)) {
    const std::string where = regression_location(path, c.line);
    if (c.kind != RegressionKind::rapidcheck) {
      return "interleave: " + where + ": " + name + " is an INTERLEAVE_PROPERTY; its cases are '" + name +
             " rc <RapidCheck reproduce string>' lines, not '" + std::string(to_string(c.kind)) + "'";
    }
    std::string failure = replay_recorded_case(testable, id, where, c);
    if (!failure.empty()) return failure;
  }
  return {};
}

// Appends the failure's case to the regression file at `path`; says where, on `out`.
void record_failure(const rc::detail::FailureResult& failure, RegressionCase c, const std::string& suite,
                    const std::string& path, std::ostream& out) {
  std::vector<std::string> comments = {utc_timestamp() + " " + suite + "." + c.test,
                                       description_line(failure.description, "interleave: ")};
  if (!failure.counterExample.empty()) comments.push_back(example_text(failure.counterExample));
  const std::string replay = description_line(failure.description, "INTERLEAVE_REPLAY=");
  if (replay.rfind("INTERLEAVE_REPLAY=", 0) == 0) comments.push_back("schedule: " + replay.substr(0, replay.find(' ')));
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

}  // namespace

std::string schedule_report_in_property(const std::string& report) {
  static constexpr std::string_view kReproduce = "reproduce: INTERLEAVE_REPLAY=";
  const std::size_t at = report.rfind(kReproduce);
  if (at == std::string::npos || (at != 0 && report[at - 1] != '\n')) return report;
  const std::size_t token_begin = at + kReproduce.size();
  const std::size_t token_end = report.find_first_of(" \n", token_begin);
  const std::size_t line_end = report.find('\n', token_begin);
  std::string out = report.substr(0, at);
  out += "schedule: INTERLEAVE_REPLAY=";
  out += report.substr(token_begin, token_end - token_begin);
  out += " (alone it explores new scenarios; the reproduce line below replays this case and schedule)";
  if (line_end != std::string::npos) out += report.substr(line_end);
  return out;
}

void fail_case(std::string report) {
  last_failure_report() = std::move(report);
  RC_FAIL(last_failure_report());
}

bool add_rapidcheck_describer() noexcept { return add_foreign_assertion_describer(&describe_rapidcheck_result); }

}  // namespace interleave::detail

namespace interleave {

::testing::AssertionResult property_fails(const std::string& name, const detail::ErasedProperty& property,
                                          const ExpectedFailure& expected) {
  if (expected.runs < 1) {
    throw std::invalid_argument("property_fails: ExpectedFailure::runs must be >= 1, got " +
                                std::to_string(expected.runs));
  }
  Options settings;
  settings.apply_environment();
  rc::detail::TestMetadata metadata;
  metadata.id = name;
  metadata.description = name;
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  std::optional<rc::detail::TestResult> result;
  for (int run = 0; run < expected.runs; ++run, ++params.seed) {
    detail::last_failure_report().clear();
    // A listener of its own: the global one would list the failure again, as one to reproduce,
    // when the program ends.
    rc::detail::TestListenerAdapter quiet;
    result = rc::detail::checkTestable(property, metadata, params, quiet);
    if (result->is<rc::detail::FailureResult>()) break;
  }
  if (!result->is<rc::detail::FailureResult>()) {
    std::ostringstream out;
    rc::detail::printResultMessage(*result, out);
    return ::testing::AssertionFailure() << "a failure of \"" << name << "\" was expected, but in " << expected.runs
                                         << (expected.runs == 1 ? " run" : " runs") << ":\n"
                                         << out.str();
  }
  auto& failure = result->get<rc::detail::FailureResult>();
  if (failure.description.find(expected.reason) == std::string::npos) {
    return ::testing::AssertionFailure() << "\"" << name << "\" failed, but not with \"" << expected.reason << "\":\n"
                                         << failure.description;
  }
  detail::keep_failing_report(failure);
  std::cout << "interleave: expected failure found: " << name << ": "
            << detail::description_line(failure.description, "interleave: ") << " (after " << failure.numSuccess
            << " passing cases"
            << (settings.expected_failure_reports ? ")\n" : "; INTERLEAVE_EXPECTED_FAILURE_REPORTS=on shows it)\n");
  if (settings.expected_failure_reports) {
    std::ostringstream out;
    rc::detail::printResultMessage(*result, out);
    std::cout << out.str() << "\n";
  }
  std::cout.flush();
  return ::testing::AssertionSuccess();
}

}  // namespace interleave

namespace interleave::detail {

void check_erased_property(const ErasedProperty& testable, const std::string& default_directory) {
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
    const std::string failure = replay_recorded_cases(testable, metadata.id, path, name);
    if (!failure.empty()) FAIL() << failure;
  }

  last_failure_report().clear();
  rc::detail::TestResult result = rc::detail::checkTestable(testable, metadata);
  if (result.is<rc::detail::FailureResult>()) keep_failing_report(result.get<rc::detail::FailureResult>());
  if (result.is<rc::detail::SuccessResult>()) {
    if (!result.get<rc::detail::SuccessResult>().distribution.empty()) {
      rc::detail::printResultMessage(result, std::cout);
      std::cout << std::endl;
    }
    return;
  }
  std::ostringstream out;
  rc::detail::printResultMessage(result, out);
  if (result.is<rc::detail::FailureResult>()) {
    const auto& failure = result.get<rc::detail::FailureResult>();
    RegressionCase c;
    c.test = name;
    c.kind = RegressionKind::rapidcheck;
    c.value = rc::detail::reproduceMapToString({{metadata.id, failure.reproduce}});
    out << "\n" << reproduce_line(c.value, failure.description);
    if (directory) record_failure(failure, c, suite, path, out);
  }
  FAIL() << out.str();
}

}  // namespace interleave::detail
