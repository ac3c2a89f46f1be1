// The race detector can be switched per exploration, from Options or INTERLEAVE_RACE_DETECTOR.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <stdexcept>
#include <string>

#include "interleave/detail/fiber.h"
#include "interleave/explore.h"
#include "interleave/shared.h"
#include "interleave/thread.h"
#include "interleave_test_support.h"

namespace interleave {
namespace {

using test_support::ScopedEnv;

// Two fibers write one Shared cell with nothing ordering them: a race when the detector runs.
struct UnorderedWrites {
  template <Platform P>
  void operator()() const {
    Shared<int, P> x{0};
    BasicThread<P> t([&] { x.write(1); });
    t.start();
    x.write(2);
    t.join();
  }
};

Options few() {
  Options o;
  o.schedules = 20;
  return o;
}

TEST(DetectorSwitch, OnByDefault) {
  const Result r = explore(few(), UnorderedWrites{});
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::data_race) << r;
}

// With our detector off, ThreadSanitizer builds see the unordered writes themselves (and halt).
#define INTERLEAVE_SKIP_UNDER_TSAN() \
  if (INTERLEAVE_TSAN) GTEST_SKIP() << "with the model's detector off, TSan reports the race itself"

TEST(DetectorSwitch, OptionsTurnItOffForOneExplorationOnly) {
  INTERLEAVE_SKIP_UNDER_TSAN();
  Options off = few();
  off.race_detector = false;
  EXPECT_TRUE(explore(off, UnorderedWrites{}).passed());
  EXPECT_NE(off.describe().find("race_detector=off"), std::string::npos) << off.describe();
  // The process-wide setting is untouched afterwards.
  const Result again = explore(few(), UnorderedWrites{});
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.failure->kind, FailureKind::data_race);
}

TEST(DetectorSwitch, EnvironmentVariableTurnsItOffAndOn) {
  INTERLEAVE_SKIP_UNDER_TSAN();
  {
    ScopedEnv env("INTERLEAVE_RACE_DETECTOR", "off");
    EXPECT_TRUE(explore(few(), UnorderedWrites{}).passed());
  }
  {
    ScopedEnv env("INTERLEAVE_RACE_DETECTOR", "on");
    const bool was = set_race_detector(false);
    const Result r = explore(few(), UnorderedWrites{});
    (void)set_race_detector(was);
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.failure->kind, FailureKind::data_race);
  }
}

TEST(DetectorSwitch, MalformedValueIsRejected) {
  ScopedEnv env("INTERLEAVE_RACE_DETECTOR", "yes");
  try {
    (void)explore(few(), UnorderedWrites{});
    FAIL() << "accepted INTERLEAVE_RACE_DETECTOR=yes";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("INTERLEAVE_RACE_DETECTOR='yes'"), std::string::npos) << m;
    EXPECT_NE(m.find("'on' or 'off'"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace interleave
