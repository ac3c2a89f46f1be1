// Names a test gives its threads and objects (interleave/names.h) in reports, deadlock lists and
// trace files.
#include "interleave/names.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>

#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/shared.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

Options with_schedules(std::uint64_t n) {
  Options o;
  o.schedules = n;
  return o;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Two threads taking two locks in opposite orders; `named` names the threads and the locks.
Result abba(bool named, const std::string& trace_path = {}) {
  Options options = with_schedules(200);
  options.trace_path = trace_path;
  return explore(options, [named]<Platform P>() {
    BasicMutex<P> first;
    BasicMutex<P> second;
    if (named) {
      name(first, "first");
      name(second, "second");
      name_this_thread("left");
    }
    BasicThread<P> right(
        [&] {
          std::lock_guard a(second);
          std::lock_guard b(first);
        },
        named ? "right" : "");
    right.start();
    {
      std::lock_guard a(first);
      std::lock_guard b(second);
    }
    right.join();
  });
}

TEST(Names, DeadlockListNamesTheBlockedThreadsAndTheLocksTheyWaitFor) {
  const Result r = abba(true);
  ASSERT_TRUE(r.failed());
  ASSERT_EQ(r.failure->kind, FailureKind::deadlock) << r;
  const std::string& m = r.failure->message;
  EXPECT_TRUE(contains(m, "fiber 0 (left) blocked in Mutex::lock (object ")) << m;
  EXPECT_TRUE(contains(m, "fiber 1 (right) blocked in Mutex::lock (object ")) << m;
  EXPECT_TRUE(contains(m, "\"first\")")) << m;
  EXPECT_TRUE(contains(m, "\"second\")")) << m;
}

TEST(Names, StepsCarryTheNamesOfTheirFiberAndObject) {
  const Result r = abba(true);
  ASSERT_TRUE(r.failed());
  bool right_step = false;
  bool named_object = false;
  for (const StepRecord& s : r.last_steps) {
    if (s.fiber == 1) {
      EXPECT_EQ(s.fiber_name, "right") << r;
      right_step = true;
    }
    if (s.fiber == 0) {
      EXPECT_EQ(s.fiber_name, "left") << r;
    }
    named_object = named_object || s.object_name == "first" || s.object_name == "second";
  }
  EXPECT_TRUE(right_step) << r;
  EXPECT_TRUE(named_object) << r;
  const std::string report = r.report();
  EXPECT_TRUE(contains(report, "fiber 1 (right)")) << report;
  EXPECT_TRUE(contains(report, "\"second\"")) << report;
}

TEST(Names, WithoutNamesReportsShowNumbersOnly) {
  const Result r = abba(false);
  ASSERT_TRUE(r.failed());
  const std::string& m = r.failure->message;
  EXPECT_TRUE(contains(m, "fiber 0 blocked in Mutex::lock (object ")) << m;
  EXPECT_TRUE(contains(m, "fiber 1 blocked in Mutex::lock (object ")) << m;
  EXPECT_FALSE(contains(m, "\"")) << m;
  for (const StepRecord& s : r.last_steps) {
    EXPECT_TRUE(s.fiber_name.empty()) << r;
    EXPECT_TRUE(s.object_name.empty()) << r;
  }
}

TEST(Names, TraceFilesNameTheLanesAndObjects) {
  const std::string path = (std::filesystem::temp_directory_path() / "interleave_names_trace.json").string();
  const std::string html_path = path.substr(0, path.size() - 5) + ".html";
  const Result r = abba(true, path);
  ASSERT_TRUE(r.failed());
  ASSERT_EQ(r.trace_files.size(), 2U) << r;
  for (const std::string& file : {path, html_path}) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_TRUE(contains(text.str(), "fiber 1 (right)")) << file;
    EXPECT_TRUE(contains(text.str(), "first")) << file;
  }
  std::remove(path.c_str());
  std::remove(html_path.c_str());
}

struct Account {
  ModelPlatform::Atomic<int> balance{0};
  ModelPlatform::Atomic<int> version{0};
};

TEST(Names, AMemberIsShownWithItsOffsetAndAMemberNamedOnItsOwnKeepsItsName) {
  std::ptrdiff_t offset = 0;
  const Result r = explore(with_schedules(1), [&offset]<Platform P>() {
    if constexpr (std::is_same_v<P, ModelPlatform>) {
      Account account;
      offset = reinterpret_cast<const char*>(&account.version) - reinterpret_cast<const char*>(&account);
      name(account, "account");
      name(account.balance, "balance");
      account.balance.store(1);
      account.version.store(1);
      INTERLEAVE_ASSERT(false, "stop here so that the steps are reported");
    }
  });
  ASSERT_TRUE(r.failed());
  std::string names;
  for (const StepRecord& s : r.last_steps) names += s.object_name + ";";
  EXPECT_TRUE(contains(names, "balance;")) << names;
  EXPECT_TRUE(contains(names, "account+" + std::to_string(offset) + ";")) << names;
}

TEST(Names, ControlCharactersPrintAsQuestionMarksAndLongNamesAreCut) {
  const Result r = explore(with_schedules(1), []<Platform P>() {
    name_this_thread("two\nlines" + std::string(100, 'x'));
    INTERLEAVE_ASSERT(false, "fail");
  });
  ASSERT_TRUE(r.failed());
  ASSERT_TRUE(contains(r.report(), "in fiber 0 (two?lines")) << r;
  EXPECT_EQ(r.failure->fiber_name.size(), 48U) << r.failure->fiber_name;
}

TEST(Names, DataRaceReportNamesTheRacingThreads) {
  const Result r = explore(with_schedules(50), []<Platform P>() {
    Shared<int, P> counter{0};
    BasicThread<P> writer([&] { counter.write(1); }, "writer");
    writer.start();
    counter.write(2);
    writer.join();
  });
  ASSERT_TRUE(r.failed());
  ASSERT_EQ(r.failure->kind, FailureKind::data_race) << r;
  EXPECT_TRUE(contains(r.failure->message, "(fiber 1 is writer)")) << r;
}

TEST(Names, NamesDoNotOutliveTheirSchedule) {
  int schedule = 0;
  const Result r = explore(with_schedules(2), [&]<Platform P>() {
    if (++schedule == 1) name_this_thread("only in the first");
    INTERLEAVE_ASSERT(schedule < 2, "fail in the second schedule");
  });
  ASSERT_TRUE(r.failed());
  EXPECT_TRUE(r.failure->fiber_name.empty()) << r;
}

TEST(Names, ANativeThreadGetsItsNameFromTheOperatingSystem) {
  std::string seen;
  Thread t(
      [&] {
        char name[16] = {};
        pthread_getname_np(pthread_self(), name, sizeof name);
        seen = name;
      },
      "producer-with-a-long-name");
  t.start();
  t.join();
  EXPECT_EQ(seen, "producer-with-a");  // the kernel keeps 15 bytes
}

}  // namespace
}  // namespace interleave
