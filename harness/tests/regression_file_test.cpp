// Regression files (regressions.h): the format's parser, its errors (file:line and the accepted
// form), appending from several processes at once, and INTERLEAVE_TEST's explore_test replaying
// recorded schedules before exploring and recording new failures. Every test works in a temporary
// directory of its own; properties/regression_file_properties.cpp covers INTERLEAVE_PROPERTY.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "interleave/gtest.h"
#include "interleave/mutex.h"
#include "interleave/regressions.h"
#include "interleave/thread.h"
#include "interleave_test_support.h"

namespace interleave {
namespace {

using test_support::read_text;
using test_support::ScopedEnv;
using test_support::TemporaryDirectory;
using test_support::write_text;

constexpr const char* kToken = "random.s=1eaf5eed.i=3.w=50.m=100000.t=32-3-0a1b2c3d";
constexpr const char* kOtherToken = "pct.d=3.c=120.s=7.i=0.w=0.m=5000.t=12-2-00ff00ff";

std::string parse_error(const std::string& text) {
  try {
    (void)RegressionFile::parse(text, "dir/Suite.txt");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(RegressionFile, ParsesCasesCommentsAndBlankLines) {
  const std::string text = std::string(regression_file_header()) + "\n# 2026-01-01 a comment\n" +
                           "MutualExclusion rc AAbc+_9\n  \t\n" + "Counter\treplay  " + kToken + "\r\n" +
                           "Counter/2 replay " + kOtherToken;
  const RegressionFile file = RegressionFile::parse(text, "dir/Suite.txt");
  ASSERT_EQ(file.cases().size(), 3U);
  EXPECT_EQ(file.cases()[0].test, "MutualExclusion");
  EXPECT_EQ(file.cases()[0].kind, RegressionKind::rapidcheck);
  EXPECT_EQ(file.cases()[0].value, "AAbc+_9");
  EXPECT_EQ(file.cases()[0].line, 9);
  EXPECT_EQ(file.cases()[1].entry(), std::string("Counter replay ") + kToken);
  EXPECT_EQ(file.cases()[1].line, 11);
  EXPECT_EQ(file.cases()[2].test, "Counter/2");
  EXPECT_EQ(file.cases_of("Counter").size(), 1U);
  EXPECT_EQ(file.cases_of("Unknown").size(), 0U);
  EXPECT_EQ(RegressionFile::parse("", "x").cases().size(), 0U);
}

TEST(RegressionFile, MalformedLinesNameFileLineAndTheAcceptedForm) {
  struct Bad {
    std::string line;
    std::string says;
  };
  const std::vector<Bad> bad = {
      {"Counter replay", "has 2 fields, not 3"},
      {"Counter replay a b", "has 4 fields, not 3"},
      {"Counter rerun x", "the kind 'rerun' is neither 'rc' nor 'replay'"},
      {"Count-er rc AAAA", "has a character other than letters, digits and '_'"},
      {"Counter/1 replay " + std::string(kToken), "'/' not followed by a number from 2"},
      {"Counter/02 replay " + std::string(kToken), "'/' not followed by a number from 2"},
      {"/2 replay " + std::string(kToken), "is empty before '/'"},
      {"Counter rc AA\\x01", "other than letters, digits and + _ - / ="},
      {"Counter replay random.s=zz.i=0.w=50.m=1.t=1-1-00000000", "schedule token"},
      {"Counter replay random.s=01eaf5eed.i=3.w=50.m=100000.t=1-1-00000000", "field 's' has a leading zero"},
      // A token printed before tokens carried their test's fingerprint.
      {"Counter replay random.s=1eaf5eed.i=3.w=50.m=100000", "it has no test fingerprint"},
  };
  for (const Bad& b : bad) {
    const std::string message = parse_error("# header\n\nOther rc AAAA\n" + b.line + "\n");
    EXPECT_NE(message.find("dir/Suite.txt:4: "), std::string::npos) << b.line << "\n" << message;
    EXPECT_NE(message.find(b.says), std::string::npos) << b.line << "\n" << message;
    EXPECT_NE(message.find("accepted: '<TestName> rc <RapidCheck reproduce string>'"), std::string::npos) << message;
  }
  // A NUL byte or other control character is quoted with C escapes, not cut off or printed raw.
  const std::string nul = parse_error(std::string("Count\0er rc AAAA\n", 17));
  EXPECT_NE(nul.find(R"('Count\x00\x65r')"), std::string::npos) << nul;
  EXPECT_NE(nul.find("accepted:"), std::string::npos) << nul;
}

TEST(RegressionFile, LoadOfAMissingFileHasNoCasesAndAnUnreadableOneIsAnError) {
  const TemporaryDirectory dir;
  EXPECT_EQ(RegressionFile::load(dir.path() + "/Missing.txt").cases().size(), 0U);
  try {
    (void)RegressionFile::load(dir.path());  // a directory
    ADD_FAILURE() << "a directory was read as a regression file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path() + " is a directory; a regression file must be a regular file"),
              std::string::npos)
        << e.what();
  }
}

// The error of RegressionFile::load(path), or "(loaded)".
std::string load_error(const std::string& path) {
  try {
    (void)RegressionFile::load(path);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(loaded)";
}

// A regression file of NUL bytes (a core dump or a disk image saved under the suite's name) quoted
// its whole line: 1 MiB gave a 4 MiB message, 50 MB a 200 MB one. Now the line is quoted escaped,
// at most 80 bytes of it, and a file over 16 MiB is refused unread.
TEST(RegressionFile, AFileOfNulBytesGivesAShortErrorNamingItsLine) {
  const TemporaryDirectory dir;
  const std::string path = dir.file("Suite.txt");
  write_text(path, "# a comment\n" + std::string(std::size_t{1} << 20, '\0') + "\n");
  const std::string message = load_error(path);
  EXPECT_LT(message.size(), 1000U) << message.substr(0, 2000);
  std::string quoted = "the line '";
  for (int i = 0; i < 80; ++i) quoted += "\\x00";
  EXPECT_NE(message.find(path + ":2: " + quoted + "'... (1048496 more bytes) has 1 field, not 3"), std::string::npos)
      << message.substr(0, 2000);
  EXPECT_NE(message.find("accepted: '<TestName> rc"), std::string::npos) << message.substr(0, 2000);

  // 50 MB (a sparse file: no disk space, no time to write it) is refused by its size.
  write_text(path, "");
  ASSERT_EQ(::truncate(path.c_str(), 50'000'000), 0);
  const std::string large = load_error(path);
  EXPECT_LT(large.size(), 400U) << large.substr(0, 2000);
  EXPECT_NE(large.find(path + " is 50000000 bytes; a regression file is read whole and may be at most 16777216 bytes"),
            std::string::npos)
      << large;
}

// A FIFO named like a regression file blocked open() for ever (waiting for a writer), so the test
// program hung before its first test. Now it is refused at once: the file is opened non-blocking and
// must be a regular file. Should load() block again, the test does not hang: after a generous bound
// it opens the FIFO for writing itself, which lets the blocked open() return, and fails.
TEST(RegressionFile, AFifoIsRefusedWithoutWaitingForAWriter) {
  const TemporaryDirectory dir;
  const std::string path = dir.file("Suite.txt");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto loading = std::async(std::launch::async, [&path] { return load_error(path); });
  if (loading.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "RegressionFile::load blocked on a FIFO";
    const int writer = ::open(path.c_str(), O_WRONLY);  // pairs with the blocked reader
    if (writer >= 0) ::close(writer);
  }
  const std::string message = loading.get();
  EXPECT_NE(message.find(path + " is a FIFO (named pipe); a regression file must be a regular file"), std::string::npos)
      << message;

  // Appending refuses it the same way (opening it read-write never blocked, but reading it failed
  // with "Illegal seek").
  try {
    (void)append_regression(path, RegressionCase{"Counter", RegressionKind::replay, kToken, 0}, {});
    ADD_FAILURE() << "appended to a FIFO";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path + " is a FIFO (named pipe)"), std::string::npos) << e.what();
  }
  // A device is refused the same way (reading one such as /dev/zero would never end).
  const std::string device = load_error("/dev/null");
  EXPECT_NE(device.find("/dev/null is a character device; a regression file must be a regular file"), std::string::npos)
      << device;
}

TEST(RegressionFile, AppendWritesTheHeaderOnceCommentsAsOneLineAndNoDuplicates) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path() + "/nested/deeper", "Suite");
  RegressionCase c{"Counter", RegressionKind::replay, kToken, 0};
  const AppendedRegression first = append_regression(path, c, {"2026-01-01 Suite.Counter", "two\nlines\x01"});
  EXPECT_TRUE(first.added);
  const std::string text = read_text(path);
  EXPECT_EQ(text.rfind(regression_file_header(), 0), 0U) << text;
  EXPECT_NE(text.find("# two\\nlines\\x01\n"), std::string::npos) << text;
  const RegressionFile file = RegressionFile::parse(text, path);
  ASSERT_EQ(file.cases().size(), 1U);
  EXPECT_EQ(file.cases()[0].line, first.line);

  const AppendedRegression again = append_regression(path, c, {"again"});
  EXPECT_FALSE(again.added);
  EXPECT_EQ(again.line, first.line);
  EXPECT_EQ(read_text(path), text);

  // A file whose last line lost its newline (edited by hand) gets one before the next case.
  write_text(path, text + "# no newline at the end");
  RegressionCase other{"Counter/2", RegressionKind::replay, kOtherToken, 0};
  const AppendedRegression second = append_regression(path, other, {});
  EXPECT_TRUE(second.added);
  const RegressionFile after = RegressionFile::load(path);
  ASSERT_EQ(after.cases().size(), 2U);
  EXPECT_EQ(after.cases()[1].line, second.line);
  EXPECT_EQ(after.cases()[1].entry(), other.entry());

  // What would not parse back is refused before anything is written.
  EXPECT_THROW(append_regression(path, RegressionCase{"Bad name", RegressionKind::rapidcheck, "AAAA", 0}, {}),
               std::invalid_argument);
  EXPECT_EQ(RegressionFile::load(path).cases().size(), 2U);
}

// Processes appending to one file at once (ctest -j running tests of one suite): every distinct case
// is there exactly once, and the file parses.
TEST(RegressionFile, ConcurrentAppendsFromProcessesKeepEveryCaseOnce) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path(), "Suite");
  constexpr int kProcesses = 6;
  constexpr int kCases = 20;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int status = 0;
      try {
        for (int i = 0; i < kCases; ++i) {
          // Every process appends the shared cases 0..kCases-1 and one of its own.
          append_regression(path,
                            RegressionCase{"Shared", RegressionKind::replay,
                                           "random.s=1.i=" + std::to_string(i) + ".w=0.m=10.t=1-1-00000000", 0},
                            {"process " + std::to_string(p)});
          append_regression(path,
                            RegressionCase{"Own" + std::to_string(p), RegressionKind::replay,
                                           "random.s=2.i=" + std::to_string(i) + ".w=0.m=10.t=1-1-00000000", 0},
                            {});
        }
      } catch (...) {
        status = 1;
      }
      ::_exit(status);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  const RegressionFile file = RegressionFile::load(path);
  EXPECT_EQ(file.cases().size(), static_cast<std::size_t>(kCases * (kProcesses + 1)));
  EXPECT_EQ(file.cases_of("Shared").size(), static_cast<std::size_t>(kCases));
  for (int p = 0; p < kProcesses; ++p)
    EXPECT_EQ(file.cases_of("Own" + std::to_string(p)).size(), static_cast<std::size_t>(kCases));
}

TEST(RegressionFile, DirectoryFromOptionsEnvironmentOrDefault) {
  Options o;
  EXPECT_EQ(regression_directory(o, "compiled/dir"), std::optional<std::string>("compiled/dir"));
  EXPECT_EQ(regression_directory(o, ""), std::nullopt);
  o.regressions = "off";
  EXPECT_EQ(regression_directory(o, "compiled/dir"), std::nullopt);
  {
    const ScopedEnv chosen("INTERLEAVE_REGRESSIONS", "/elsewhere");
    Options from_environment;
    from_environment.apply_environment();
    EXPECT_EQ(regression_directory(from_environment, "compiled/dir"), std::optional<std::string>("/elsewhere"));
  }
  {
    const ScopedEnv empty("INTERLEAVE_REGRESSIONS", "");
    Options from_environment;
    try {
      from_environment.apply_environment();
      ADD_FAILURE() << "an empty INTERLEAVE_REGRESSIONS was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("INTERLEAVE_REGRESSIONS"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("'off' or the directory"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(regression_file_path("a/b/", "Suite"), "a/b/Suite.txt");
  EXPECT_EQ(regression_file_path("a/b", "Suite"), "a/b/Suite.txt");
  EXPECT_EQ(detail::source_directory("/src/properties/x_properties.cpp"), "/src/properties");
  EXPECT_EQ(detail::source_directory("x.cpp"), ".");
}

// explore_test inside an INTERLEAVE_TEST (here: a RegressionScope made by hand, with a temporary
// directory as the compiled default).

Options few_schedules() {
  Options o;
  o.schedules = 200;
  return o;
}

// Two threads increment a counter with a separate load and store: an update is lost on some
// schedules. With `locked` the increments hold a mutex and nothing is lost.
Result explore_counter(bool locked) {
  return explore_test(few_schedules(), [locked]<Platform P>() {
    BasicMutex<P> lock;
    typename P::template Atomic<int> counter{0};
    auto work = [&] {
      if (locked) lock.lock();
      counter.store(counter.load() + 1);
      if (locked) lock.unlock();
    };
    BasicThread<P> a(work);
    BasicThread<P> b(work);
    a.start();
    b.start();
    a.join();
    b.join();
    INTERLEAVE_ASSERT(counter.load() == 2);
  });
}

TEST(RegressionTest, NewFailureIsRecordedAndReplayedFirstWhileTheBugIsThere) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path(), "RegressionTest");
  const std::string name = "NewFailureIsRecordedAndReplayedFirstWhileTheBugIsThere";
  std::string token;
  {
    detail::RegressionScope scope(dir.path());
    const Result found = explore_counter(false);
    ASSERT_TRUE(found.failed());
    EXPECT_FALSE(found.replayed);
    EXPECT_NE(found.report().find("new failure recorded as a regression at " + path + ":"), std::string::npos)
        << found.report();
    const RegressionFile file = RegressionFile::load(path);
    ASSERT_EQ(file.cases().size(), 1U);
    EXPECT_EQ(file.cases()[0].test, name);
    EXPECT_EQ(file.cases()[0].kind, RegressionKind::replay);
    token = file.cases()[0].value;
    // The schedule the report's reproduce line names (the shrunk one).
    EXPECT_NE(found.reproduce.find("INTERLEAVE_REPLAY=" + token + " "), std::string::npos) << found.reproduce;
    const std::string text = read_text(path);
    EXPECT_NE(text.find("# interleave: ASSERTION FAILED after"), std::string::npos) << text;
    EXPECT_NE(text.find("RegressionTest." + name), std::string::npos) << text;

    // A second exploration in the same test keeps its cases apart, as <Name>/2.
    const Result second = explore_counter(false);
    ASSERT_TRUE(second.failed());
    EXPECT_EQ(RegressionFile::load(path).cases_of(name + "/2").size(), 1U);
  }
  {
    // The next run: the recorded schedule replays first and fails, so nothing new is explored.
    detail::RegressionScope scope(dir.path());
    const Result again = explore_counter(false);
    ASSERT_TRUE(again.failed());
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.schedule.token(), token);
    EXPECT_EQ(again.schedules_run, 1U);
    const int line = RegressionFile::load(path).cases_of(name)[0].line;
    EXPECT_NE(again.report().find("recorded regression " + path + ":" + std::to_string(line) + " fails again"),
              std::string::npos)
        << again.report();
    EXPECT_NE(again.report().find(std::string("INTERLEAVE_REPLAY=") + token), std::string::npos) << again.report();
    EXPECT_EQ(RegressionFile::load(path).cases().size(), 2U);  // nothing appended
  }
  {
    // Fixed by a change that adds scheduling points before the bug (the lock): the recorded
    // schedules no longer fit the test, which is an error naming the line, not a pass that shows
    // nothing; the file is unchanged.
    const std::string before = read_text(path);
    detail::RegressionScope scope(dir.path());
    const int line = RegressionFile::load(path).cases_of(name)[0].line;
    try {
      (void)explore_counter(true);
      ADD_FAILURE() << "a recorded schedule that no longer fits the test was replayed";
    } catch (const ReplayMismatch& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(path + ":" + std::to_string(line) + ": the recorded case of " + name + " cannot be replayed"),
                std::string::npos)
          << m;
      EXPECT_NE(m.find("does not fit this test"), std::string::npos) << m;
      EXPECT_NE(m.find("if its bug is fixed, delete its line"), std::string::npos) << m;
    }
    EXPECT_EQ(read_text(path), before);
  }
  {
    // Its lines deleted, as the error says: exploration runs and passes, nothing is recorded.
    write_text(path, std::string(regression_file_header()));
    detail::RegressionScope scope(dir.path());
    const Result fixed = explore_counter(true);
    EXPECT_TRUE(fixed.passed()) << fixed.report();
    EXPECT_EQ(fixed.schedules_run, few_schedules().schedules);
    EXPECT_EQ(read_text(path), std::string(regression_file_header()));
  }
}

// A case recorded for one test and pasted under another's name (or a test whose body changed):
// the token's schedule is not this test's, and replaying it passed without a word.
TEST(RegressionTest, ACaseFromAnotherTestIsAnErrorNamingFileLineAndBothTests) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path(), "RegressionTest");
  // A failing schedule of a body of three fibers that only store.
  const Result other = explore(few_schedules(), []<Platform P>() {
    typename P::template Atomic<int> x{0};
    BasicThread<P> a([&] { x.store(1); });
    BasicThread<P> b([&] { x.store(2); });
    a.start();
    b.start();
    a.join();
    b.join();
    INTERLEAVE_ASSERT(x.load() == 2);
  });
  ASSERT_TRUE(other.failed());
  const std::string token = other.reproduce_token();
  write_text(path,
             "# recorded elsewhere\nACaseFromAnotherTestIsAnErrorNamingFileLineAndBothTests replay " + token + "\n");
  detail::RegressionScope scope(dir.path());
  try {
    (void)explore_counter(false);
    ADD_FAILURE() << "a case of another test was replayed";
  } catch (const ReplayMismatch& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path + ":2: the recorded case of ACaseFromAnotherTestIsAnErrorNamingFileLineAndBothTests"),
              std::string::npos)
        << m;
    const TestFingerprint recorded = (other.shrunk ? *other.shrunk : other.schedule).test;
    EXPECT_NE(m.find("(fingerprint " + recorded.text() + ")"), std::string::npos) << m;
    EXPECT_NE(m.find("but this test's first"), std::string::npos) << m;
  }
}

TEST(RegressionTest, ExploreTestOutsideAScopeRecordsNothing) {
  const Result r = explore_counter(false);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.report().find("as a regression"), std::string::npos) << r.report();
}

TEST(RegressionTest, OffDisablesReplayAndRecording) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path(), "RegressionTest");
  write_text(path, "this line is malformed, but off does not read it\n");
  const ScopedEnv off("INTERLEAVE_REGRESSIONS", "off");
  detail::RegressionScope scope(dir.path());
  const Result r = explore_counter(false);
  ASSERT_TRUE(r.failed());
  EXPECT_FALSE(r.replayed);
  EXPECT_EQ(r.report().find("as a regression"), std::string::npos) << r.report();
  EXPECT_EQ(read_text(path), "this line is malformed, but off does not read it\n");
}

TEST(RegressionTest, TheEnvironmentChoosesAnotherDirectory) {
  const TemporaryDirectory compiled;
  const TemporaryDirectory chosen;
  const ScopedEnv directory("INTERLEAVE_REGRESSIONS", chosen.path());
  detail::RegressionScope scope(compiled.path());
  ASSERT_TRUE(explore_counter(false).failed());
  EXPECT_TRUE(std::filesystem::is_empty(compiled.path()));
  EXPECT_EQ(RegressionFile::load(regression_file_path(chosen.path(), "RegressionTest")).cases().size(), 1U);
}

TEST(RegressionTest, AMalformedFileIsAnErrorNamingFileAndLine) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path(), "RegressionTest");
  write_text(path,
             "# fine\nOtherTest replay " + std::string(kToken) + "\nAMalformedFileIsAnErrorNamingFileAndLine replay\n");
  detail::RegressionScope scope(dir.path());
  try {
    (void)explore_counter(true);
    ADD_FAILURE() << "a malformed regression file was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("accepted:"), std::string::npos) << e.what();
  }
  // A RapidCheck case recorded for an exploration is an error too, naming its line.
  write_text(path, "AMalformedFileIsAnErrorNamingFileAndLine rc AAAA\n");
  detail::RegressionScope again(dir.path());
  try {
    (void)explore_counter(true);
    ADD_FAILURE() << "an rc case was replayed as a schedule";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":1: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("replay <INTERLEAVE_REPLAY token>"), std::string::npos) << e.what();
  }
}

TEST(RegressionTest, AReplayTokenInForceNeitherReplaysNorRecords) {
  const TemporaryDirectory dir;
  const std::string path = regression_file_path(dir.path(), "RegressionTest");
  detail::RegressionScope scope(dir.path());
  Result first;
  {
    detail::RegressionScope recording(dir.path());
    first = explore_counter(false);
    ASSERT_TRUE(first.failed());
  }
  const std::string before = read_text(path);
  const ScopedEnv replay("INTERLEAVE_REPLAY", first.schedule.token());
  const Result replayed = explore_counter(false);
  ASSERT_TRUE(replayed.failed());
  EXPECT_EQ(replayed.report().find("as a regression"), std::string::npos) << replayed.report();
  EXPECT_EQ(read_text(path), before);
}

}  // namespace
}  // namespace interleave
