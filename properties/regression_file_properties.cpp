// INTERLEAVE_PROPERTY's regression files, with a zoo mutex as the bug: a new failure is appended
// with its comment, a recorded case replays first and fails while the bug is there, a recorded case
// that passes lets the test pass, a malformed file fails naming file:line, and off disables both.
// Each test calls the macro's body (detail::check_property) on a temporary directory and collects
// the GoogleTest failures it reports, instead of failing itself.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>

#include "interleave/mutex.h"
#include "interleave/rapidcheck.h"
#include "interleave/regressions.h"
#include "interleave/thread.h"
#include "interleave_test_support.h"
#include "zoo/broken_mutexes.h"

namespace interleave {
namespace {

using test_support::read_text;
using test_support::ScopedEnv;
using test_support::TemporaryDirectory;

// Two or three threads, one or two locked increments each (a read and a write of a shared cell).
template <template <class> class MutexT>
void counter_property() {
  const int threads = *rc::gen::inRange(2, 4);
  const int increments = *rc::gen::inRange(1, 3);
  check_schedules([&]<Platform P>() {
    MutexT<P> lock;
    typename P::template Atomic<int> counter{0};
    std::vector<std::unique_ptr<BasicThread<P>>> workers;
    for (int t = 0; t < threads; ++t) {
      workers.push_back(std::make_unique<BasicThread<P>>([&] {
        for (int i = 0; i < increments; ++i) {
          std::lock_guard guard(lock);
          counter.store(counter.load() + 1);
        }
      }));
    }
    for (auto& w : workers) w->start();
    for (auto& w : workers) w->join();
    INTERLEAVE_ASSERT(counter.load() == threads * increments);
  });
}

template <Platform P>
using RealMutex = BasicMutex<P>;

// Runs INTERLEAVE_PROPERTY's body for the current test with `directory` as the compiled default,
// and returns the failure messages it reported (empty: it passed).
template <class Property>
std::string check_property_with_regressions(const Property& property, const std::string& directory) {
  ::testing::TestPartResultArray failures;
  {
    const ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    detail::check_property(property, directory);
  }
  std::string messages;
  for (int i = 0; i < failures.size(); ++i) {
    if (failures.GetTestPartResult(i).failed()) messages += failures.GetTestPartResult(i).message();
  }
  return messages;
}

template <template <class> class MutexT>
std::string check_with_regressions(const std::string& directory) {
  return check_property_with_regressions([] { counter_property<MutexT>(); }, directory);
}

std::string this_test() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

TEST(RegressionFiles, ANewFailureIsAppendedWithItsComment) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path(), "RegressionFiles");
  const std::string failure = check_with_regressions<zoo::CheckThenSetMutex>(dir.path());
  ASSERT_NE(failure.find("Falsifiable"), std::string::npos) << failure;
  EXPECT_NE(failure.find("new failure recorded as a regression at " + path + ":"), std::string::npos) << failure;
  const RegressionFile file = RegressionFile::load(path);
  ASSERT_EQ(file.cases().size(), 1U) << read_text(path);
  EXPECT_EQ(file.cases()[0].test, this_test());
  EXPECT_EQ(file.cases()[0].kind, RegressionKind::rapidcheck);
  EXPECT_NE(failure.find(":" + std::to_string(file.cases()[0].line) + " (check the file in"), std::string::npos)
      << failure;
  // The recorded string is the one RapidCheck prints for RC_PARAMS.
  EXPECT_NE(failure.find(file.cases()[0].value), std::string::npos) << failure;
  const std::string text = read_text(path);
  EXPECT_NE(text.find("RegressionFiles." + this_test()), std::string::npos) << text;
  EXPECT_NE(text.find("# interleave: "), std::string::npos) << text;
  EXPECT_NE(text.find("# schedule: INTERLEAVE_REPLAY="), std::string::npos) << text;
  EXPECT_NE(text.find("interleave seed: "), std::string::npos) << text;
  std::cout << "The regression file written for the check-then-set mutex:\n" << text;
}

// On real threads a failure is likely to repeat, not certain: RapidCheck runs the shrunk case once
// more to describe it, and that run may pass. The test still prints, and records, the report of
// the run that failed. (Here only the very first run of the body fails.)
TEST(RegressionFiles, AFailureThatPassesWhenRunAgainKeepsTheReportOfTheRunThatFailed) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path(), "RegressionFiles");
  std::atomic<int> runs{0};
  const std::string failure = check_property_with_regressions(
      [&runs] {
        check_stress(
            [&runs]<Platform P>() { INTERLEAVE_ASSERT(runs.fetch_add(1) != 0 && "only the first run fails"); });
      },
      dir.path());
  ASSERT_NE(failure.find("Falsifiable"), std::string::npos) << failure;
  EXPECT_GT(runs.load(), 1) << "the case was not run again";
  EXPECT_NE(failure.find("passed when run again"), std::string::npos) << failure;
  EXPECT_NE(failure.find("only the first run fails"), std::string::npos) << failure;
  const std::string text = read_text(path);
  EXPECT_NE(text.find("# interleave: "), std::string::npos) << text;
  EXPECT_EQ(text.find("no exceptions thrown"), std::string::npos) << text;
}

TEST(RegressionFiles, ARecordedCaseReplaysFirstAndFailsWhileTheBugIsThere) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path(), "RegressionFiles");
  ASSERT_FALSE(check_with_regressions<zoo::CheckThenSetMutex>(dir.path()).empty());
  const RegressionFile recorded = RegressionFile::load(path);
  ASSERT_EQ(recorded.cases().size(), 1U);
  const RegressionCase& c = recorded.cases()[0];

  const std::string again = check_with_regressions<zoo::CheckThenSetMutex>(dir.path());
  EXPECT_NE(again.find("recorded regression " + regression_location(path, c.line) + " fails again"), std::string::npos)
      << again;
  EXPECT_NE(again.find("RC_PARAMS=\"reproduce=" + c.value + "\""), std::string::npos) << again;
  EXPECT_NE(again.find("interleave seed: "), std::string::npos) << again;  // the scenario it replayed
  // It stopped at the recorded case: RapidCheck's own check did not run (it would say Falsifiable).
  EXPECT_EQ(again.find("Falsifiable"), std::string::npos) << again;
  EXPECT_EQ(RegressionFile::load(path).cases().size(), 1U);
}

TEST(RegressionFiles, ARecordedCaseThatPassesLetsTheTestPass) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path(), "RegressionFiles");
  ASSERT_FALSE(check_with_regressions<zoo::CheckThenSetMutex>(dir.path()).empty());
  const std::string before = read_text(path);
  // The bug fixed: the same property over the real mutex passes its recorded case and its check.
  EXPECT_EQ(check_with_regressions<RealMutex>(dir.path()), "");
  EXPECT_EQ(read_text(path), before);
}

TEST(RegressionFiles, AMalformedFileFailsNamingFileAndLine) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path(), "RegressionFiles");
  {
    std::ofstream out(path);
    out << "# comment\n\n" << this_test() << " rc\n";
  }
  const std::string failure = check_with_regressions<RealMutex>(dir.path());
  EXPECT_NE(failure.find(path + ":3: "), std::string::npos) << failure;
  EXPECT_NE(failure.find("accepted: '<TestName> rc <RapidCheck reproduce string>'"), std::string::npos) << failure;

  // Well-formed, but not a string RapidCheck can decode: named by file:line too.
  {
    std::ofstream out(path);
    out << "OtherTest rc A\n" << this_test() << " rc AAAAA\n";
  }
  const std::string undecodable = check_with_regressions<RealMutex>(dir.path());
  EXPECT_NE(undecodable.find(path + ":2: 'AAAAA' is not a RapidCheck reproduce string"), std::string::npos)
      << undecodable;
  // A schedule token recorded for a property is refused by its line.
  {
    std::ofstream out(path);
    out << this_test() << " replay random.s=1.i=0.w=0.m=10.t=1-1-00000000\n";
  }
  const std::string wrong_kind = check_with_regressions<RealMutex>(dir.path());
  EXPECT_NE(wrong_kind.find(path + ":1: " + this_test() + " is an INTERLEAVE_PROPERTY"), std::string::npos)
      << wrong_kind;
}

TEST(RegressionFiles, OffDisablesReplayAndRecording) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path(), "RegressionFiles");
  {
    std::ofstream out(path);
    out << "not a case\n";
  }
  const ScopedEnv off("INTERLEAVE_REGRESSIONS", "off");
  const std::string failure = check_with_regressions<zoo::CheckThenSetMutex>(dir.path());
  ASSERT_NE(failure.find("Falsifiable"), std::string::npos) << failure;
  EXPECT_EQ(failure.find("as a regression"), std::string::npos) << failure;
  EXPECT_EQ(read_text(path), "not a case\n");
}

TEST(RegressionFiles, AReplayTokenInForceNeitherReplaysNorRecords) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path(), "RegressionFiles");
  ASSERT_FALSE(check_with_regressions<zoo::CheckThenSetMutex>(dir.path()).empty());
  const std::string before = read_text(path);
  // The schedule token of the recorded failure, from its comment.
  const std::string key = "# schedule: INTERLEAVE_REPLAY=";
  const std::size_t at = before.find(key);
  ASSERT_NE(at, std::string::npos) << before;
  const std::string token = before.substr(at + key.size(), before.find('\n', at) - at - key.size());
  ASSERT_NO_THROW((void)ScheduleId::parse(token)) << token;
  const ScopedEnv replay("INTERLEAVE_REPLAY", token);
  const std::string failure = check_with_regressions<zoo::CheckThenSetMutex>(dir.path());
  EXPECT_EQ(failure.find("recorded regression"), std::string::npos) << failure;
  EXPECT_EQ(failure.find("as a regression"), std::string::npos) << failure;
  EXPECT_EQ(read_text(path), before);
}

// Run alone, the exploration's own INTERLEAVE_REPLAY line would generate new scenarios: the
// property prints one reproduce line, last, with RapidCheck's case and the schedule together.
TEST(RegressionFiles, AFailingPropertyPrintsOneReproduceLineWithItsCaseAndItsSchedule) {
  const TemporaryDirectory dir;
  const std::string failure = check_with_regressions<zoo::CheckThenSetMutex>(dir.path());
  ASSERT_NE(failure.find("Falsifiable"), std::string::npos) << failure;
  std::size_t lines = 0;
  for (std::size_t at = failure.find("reproduce: "); at != std::string::npos;
       at = failure.find("reproduce: ", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 1U) << failure;
  const std::string key = "schedule: INTERLEAVE_REPLAY=";
  const std::size_t at = failure.find(key);
  ASSERT_NE(at, std::string::npos) << failure;
  const std::string token = failure.substr(at + key.size(), failure.find(' ', at + key.size()) - at - key.size());
  ASSERT_NO_THROW((void)ScheduleId::parse(token)) << token;
  const RegressionFile recorded = RegressionFile::load(regression_file_path(dir.path(), "RegressionFiles"));
  ASSERT_EQ(recorded.cases().size(), 1U);
  const std::size_t line = failure.find("reproduce: ");
  ASSERT_NE(line, std::string::npos) << failure;
  const std::string reproduce = failure.substr(line, failure.find('\n', line) - line);
  EXPECT_EQ(
      reproduce.rfind(
          "reproduce: RC_PARAMS=\"reproduce=" + recorded.cases()[0].value + "\" INTERLEAVE_REPLAY=" + token + " ", 0),
      0U)
      << reproduce;
  EXPECT_GT(line, at) << "the reproduce line comes after the exploration's report\n" << failure;
}

// The exploration's report inside a property's failure output: from its headline to its schedule
// line (empty if there is none).
std::string exploration_report(const std::string& failure) {
  const std::size_t begin = failure.find("interleave: ASSERTION FAILED");
  if (begin == std::string::npos) return {};
  const std::size_t schedule = failure.find("schedule: INTERLEAVE_REPLAY=", begin);
  if (schedule == std::string::npos) return {};
  return failure.substr(begin, failure.find('\n', schedule) - begin);
}

// A property's failure replayed from its recorded case (RapidCheck's reproduce string: the
// scenario and the exploration seed) shows the identical report, byte for byte: the same schedule
// found, shrunk the same way, the same steps, sites, names and schedule token.
TEST(RegressionFiles, ARecordedCaseReplaysTheIdenticalReport) {
  const TemporaryDirectory dir;
  const std::string first = check_with_regressions<zoo::CheckThenSetMutex>(dir.path());
  const std::string report = exploration_report(first);
  ASSERT_FALSE(report.empty()) << first;
  EXPECT_NE(report.find("regression_file_properties.cpp:"), std::string::npos) << report;
  const std::string again = check_with_regressions<zoo::CheckThenSetMutex>(dir.path());
  ASSERT_NE(again.find("fails again"), std::string::npos) << again;
  EXPECT_EQ(exploration_report(again), report) << "first:\n" << first << "\nreplayed:\n" << again;
}

TEST(RegressionFiles, ProjectSuitesKeepTheirFilesInPropertiesRegressions) {
  const std::string directory = INTERLEAVE_DETAIL_REGRESSIONS_DIRECTORY();
  EXPECT_EQ(directory, INTERLEAVE_REGRESSIONS_DIR);
  EXPECT_TRUE(directory.ends_with("/properties/regressions")) << directory;
}

}  // namespace
}  // namespace interleave
