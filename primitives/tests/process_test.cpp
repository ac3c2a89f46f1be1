#include "interleave/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include "interleave/event.h"
#include "interleave/mutex.h"
#include "interleave/shared_memory.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

// True when `pid` no longer exists as our child (reaped), so no zombie is left.
bool reaped(pid_t pid) { return waitpid(pid, nullptr, WNOHANG) == -1 && errno == ECHILD; }

TEST(Process, ReturnsExitCodeOfTarget) {
  Process p([] { return 3; }, "three");
  p.start();
  const ExitStatus s = p.join();
  EXPECT_TRUE(s.exited);
  EXPECT_EQ(s.code, 3);
  EXPECT_FALSE(s.success());
  EXPECT_EQ(s.describe(), "exited with code 3");
}

TEST(Process, VoidTargetExitsZero) {
  Process p([] {});
  p.start();
  EXPECT_TRUE(p.join().success());
  EXPECT_EQ(p.exit_status(), (ExitStatus{true, 0, 0}));
}

TEST(Process, UncaughtExceptionIsExitCodeOne) {
  Process p([]() -> int { throw std::runtime_error("child failed"); }, "thrower");
  p.start();
  const ExitStatus s = p.join();
  EXPECT_TRUE(s.exited);
  EXPECT_EQ(s.code, 1);
}

TEST(Process, CrashIsReportedAsSignal) {
  // abort() rather than a segfault: sanitizers turn SIGSEGV into their own report and exit code.
  Process p([] { std::abort(); });
  p.start();
  const ExitStatus s = p.join();
  EXPECT_FALSE(s.exited);
  EXPECT_EQ(s.signal, SIGABRT);
  EXPECT_NE(s.describe().find("killed by signal"), std::string::npos);
}

TEST(Process, ChildMemoryIsSeparateButSharedRegionIsShared) {
  int ordinary = 1;
  SharedObject<std::atomic<int>> shared(1);
  Process p([&] {
    ordinary = 2;
    shared->store(2);
  });
  p.start();
  ASSERT_TRUE(p.join().success());
  EXPECT_EQ(ordinary, 1);
  EXPECT_EQ(shared->load(), 2);
}

TEST(Process, ProcessMutexExcludesAcrossProcesses) {
  struct State {
    ProcessMutex lock;
    long counter = 0;
  };
  SharedObject<State> state;
  auto increment = [&] {
    for (int i = 0; i < 20000; ++i) {
      std::lock_guard g(state->lock);
      ++state->counter;
    }
  };
  Process a(increment, "a");
  Process b(increment, "b");
  a.start();
  b.start();
  ASSERT_TRUE(a.join().success());
  ASSERT_TRUE(b.join().success());
  EXPECT_EQ(state->counter, 40000);
}

TEST(Process, JoinForTimesOutThenJoins) {
  // The child cannot exit before the parent releases it, so both join_for calls must time out
  // however the two processes are scheduled.
  SharedObject<ProcessEvent> release;
  Process p([&]() -> int { return release->wait_for(30s) ? 0 : 2; });
  p.start();
  EXPECT_EQ(p.join_for(0ms), std::nullopt);
  EXPECT_EQ(p.join_for(20ms), std::nullopt);
  release->set();
  const auto s = p.join_for(30s);
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->success()) << s->describe();
}

TEST(Process, KillEndsAHungChild) {
  Process p([] {
    for (;;) pause();
  });
  p.start();
  p.kill(SIGTERM);
  const ExitStatus s = p.join();
  EXPECT_FALSE(s.exited);
  EXPECT_EQ(s.signal, SIGTERM);
}

TEST(Process, UnjoinedProcessIsKilledAndReapedByDestructor) {
  pid_t pid = -1;
  testing::internal::CaptureStderr();
  {
    Process p(
        [] {
          for (;;) pause();
        },
        "sleeper");
    p.start();
    pid = p.pid();
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(reaped(pid));
  EXPECT_NE(err.find("sleeper (pid " + std::to_string(pid) + ") was not joined"), std::string::npos) << err;
}

TEST(Process, MisuseIsRejected) {
  EXPECT_THROW(Process(std::function<void()>{}), std::invalid_argument);
  Process p([] {});
  EXPECT_THROW(p.join(), std::logic_error);
  EXPECT_THROW((void)p.join_for(1ms), std::logic_error);
  EXPECT_THROW(p.kill(SIGTERM), std::logic_error);
  p.start();
  EXPECT_THROW(p.start(), std::logic_error);
  EXPECT_THROW((void)p.join_for(-1ms), std::invalid_argument);
  EXPECT_TRUE(p.join().success());
  EXPECT_TRUE(p.join().success());  // joining again returns the same status
  EXPECT_THROW(p.kill(SIGTERM), std::logic_error);
}

TEST(SharedRegion, RejectsZeroSize) { EXPECT_THROW(SharedRegion(0), std::invalid_argument); }

TEST(SharedRegion, StartsZeroedAndMoves) {
  SharedRegion r(4096);
  const auto* bytes = static_cast<const unsigned char*>(r.data());
  for (std::size_t i = 0; i < r.size(); ++i) ASSERT_EQ(bytes[i], 0);
  SharedRegion moved(std::move(r));
  EXPECT_EQ(moved.size(), 4096U);
  EXPECT_EQ(r.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from state is specified
}

}  // namespace
}  // namespace interleave
