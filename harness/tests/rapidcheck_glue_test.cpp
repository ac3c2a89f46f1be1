// RapidCheckGlue: the RapidCheck behaviour interleave::rapidcheck (harness/rapidcheck/) relies on.
// Each test fails if RapidCheck changes it: the reproduce string's round trip, replaying a
// recorded case as RC_PARAMS="reproduce=..." does, drawing a property's arguments, and the
// exception RC_ASSERT throws.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "glue.h"
#include "interleave/explore.h"
#include "interleave/rapidcheck.h"

namespace interleave {
namespace {

// Fails for every vector holding an element above 100: RapidCheck shrinks it to {101}.
void fails_above_100(const std::vector<int>& v) {
  RC_ASSERT(std::none_of(v.begin(), v.end(), [](int x) { return x > 100; }));
}
void always_passes(const std::vector<int>& v) { RC_ASSERT(v.size() < 1'000'000U); }

// Hears nothing: the failures these tests provoke are not the program's to report at exit.
struct SilentListener : rc::detail::TestListener {
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
};

rc::detail::FailureResult failure_of(const detail::ErasedProperty& property, const std::string& id) {
  rc::detail::TestMetadata metadata;
  metadata.id = id;
  rc::detail::TestParams params;
  params.maxSuccess = 1000;
  params.maxSize = 1000;
  SilentListener listener;
  const rc::detail::TestResult result = rc::detail::checkTestable(property, metadata, params, listener);
  if (!result.is<rc::detail::FailureResult>()) {
    ADD_FAILURE() << "the property did not fail";
    return {};
  }
  return result.get<rc::detail::FailureResult>();
}

TEST(RapidCheckGlue, ReproduceStringRoundTrips) {
  const auto failure = failure_of(detail::erase_property(&fails_above_100), "Glue/RoundTrip");
  const std::string text = rc::detail::reproduceMapToString({{"Glue/RoundTrip", failure.reproduce}});
  EXPECT_FALSE(text.empty());
  const auto back = rc::detail::stringToReproduceMap(text);
  ASSERT_EQ(back.size(), 1U);
  ASSERT_EQ(back.count("Glue/RoundTrip"), 1U);
  const rc::detail::Reproduce& r = back.at("Glue/RoundTrip");
  EXPECT_EQ(r.random, failure.reproduce.random);
  EXPECT_EQ(r.size, failure.reproduce.size);
  EXPECT_EQ(r.shrinkPath, failure.reproduce.shrinkPath);
  // And the string prints back the same.
  EXPECT_EQ(rc::detail::reproduceMapToString(back), text);
}

TEST(RapidCheckGlue, MalformedReproduceStringIsRefused) {
  EXPECT_ANY_THROW((void)rc::detail::stringToReproduceMap("not a reproduce string"));
  RegressionCase c;
  c.test = "Malformed";
  c.kind = RegressionKind::rapidcheck;
  c.value = "not a reproduce string";
  const std::string message =
      detail::replay_recorded_case(detail::erase_property(&fails_above_100), "Glue/Malformed", "file:1", c);
  EXPECT_NE(message.find("is not a RapidCheck reproduce string"), std::string::npos) << message;
}

TEST(RapidCheckGlue, RecordedCaseReplaysToTheShrunkCounterexample) {
  const auto property = detail::erase_property(&fails_above_100);
  const auto failure = failure_of(property, "Glue/Replay");
  RegressionCase c;
  c.test = "Replay";
  c.kind = RegressionKind::rapidcheck;
  c.value = rc::detail::reproduceMapToString({{"Glue/Replay", failure.reproduce}});
  const std::string message = detail::replay_recorded_case(property, "Glue/Replay", "file:7", c);
  EXPECT_NE(message.find("recorded regression file:7 fails again"), std::string::npos) << message;
  EXPECT_NE(message.find("[101]"), std::string::npos) << message;  // the shrunk counterexample
  // The same case replayed against a property that now passes: nothing to report.
  EXPECT_EQ(detail::replay_recorded_case(detail::erase_property(&always_passes), "Glue/Replay", "file:7", c), "");
}

// erase_property draws a property's arguments as one tuple, as RapidCheck draws them for the
// property itself: the same random state and size give the same case, so reproduce strings
// recorded either way replay alike.
void two_arguments(int a, const std::vector<std::uint8_t>& v) { RC_ASSERT(a < 50 || v.size() < 3); }

TEST(RapidCheckGlue, ErasedPropertyDrawsArgumentsAsRapidCheckDoes) {
  const rc::detail::Property direct = rc::detail::toProperty(&two_arguments);
  const rc::detail::Property erased = rc::detail::toProperty(detail::erase_property(&two_arguments));
  for (int size = 0; size <= 100; size += 10) {
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      const rc::Random random(seed);
      const auto a = direct(random, size).value();
      const auto b = erased(random, size).value();
      EXPECT_EQ(a.result.type, b.result.type) << "seed " << seed << ", size " << size;
      ASSERT_TRUE(a.example && b.example);
      EXPECT_EQ(a.example(), b.example()) << "seed " << seed << ", size " << size;
    }
  }
}

// RC_ASSERT throws RapidCheck's case result; inside an explored body it fails the schedule as an
// assertion with RapidCheck's message (the describer interleave::rapidcheck registers).
TEST(RapidCheckGlue, RcAssertInsideABodyIsAnAssertionWithItsMessage) {
  const Result r = explore(Options{}, []<Platform P>() {
    const int answer = 41;
    RC_ASSERT(answer == 42);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::assertion) << r;
  EXPECT_NE(r.failure->message.find("answer == 42"), std::string::npos) << r.failure->message;
}

}  // namespace
}  // namespace interleave
