// A program that defines its own ThreadSanitizer report hook: the library's __tsan_on_report is
// weak, so this one replaces it without a duplicate definition, and interleave::on_tsan_report
// called from it still prints the stress run's seed line. Both must run on a report. (Its own
// program: the hook below is this executable's.) Needs the tsan preset; skipped elsewhere.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "interleave/stress.h"
#include "interleave/thread.h"

#if INTERLEAVE_TSAN
extern "C" __attribute__((no_sanitize("thread"))) void __tsan_on_report(void* report) {
  const char mine[] = "the program's own TSan hook ran\n";
  (void)!::write(STDERR_FILENO, mine, sizeof mine - 1);
  interleave::on_tsan_report(report);
}
#endif

namespace interleave {
namespace {

#if INTERLEAVE_TSAN
// Two threads write a plain int that nothing orders: TSan reports it in the first iteration.
[[noreturn]] void race_and_exit() {
  Options o;
  o.stress_iterations = 1;
  o.perturbation = Perturbation::heavy();
  const StressResult r = stress(o, []<Platform P>() {
    alignas(64) int shared = 0;
    BasicThread<P> a([&] { shared = 1; });
    BasicThread<P> b([&] { shared = 2; });
    a.start();
    b.start();
    a.join();
    b.join();
  });
  std::fputs(r.report().c_str(), stderr);
  std::exit(r.failed() ? 3 : 0);
}
#endif

TEST(TsanHook, ProgramsOwnHookAndInterleavesBothRun) {
#if INTERLEAVE_TSAN
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(race_and_exit(), ::testing::ExitedWithCode(66),
              "ThreadSanitizer: data race(.|\n)*the program's own TSan hook ran\ninterleave: ThreadSanitizer "
              "reported during stress iteration 0 of 1");
#else
  GTEST_SKIP() << "needs a ThreadSanitizer build (the tsan preset)";
#endif
}

// Outside a stress run, and in builds without TSan, the hook prints nothing and does not fail.
TEST(TsanHook, OutsideAStressRunTheHookDoesNothing) {
  testing::internal::CaptureStderr();
  on_tsan_report(nullptr);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace interleave
