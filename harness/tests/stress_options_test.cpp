// The stress settings of Options and their INTERLEAVE_* variables: accepted forms parse, printed
// forms parse back, malformed values are refused naming the variable and the accepted form.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "interleave/options.h"
#include "interleave/stress.h"
#include "interleave_test_support.h"

namespace interleave {
namespace {

using test_support::ScopedEnv;

TEST(StressOptions, DefaultsAndDescribe) {
  const Options o;
  EXPECT_EQ(o.stress_iterations, 200U);
  EXPECT_EQ(o.stress_milliseconds, 0U);
  EXPECT_EQ(o.stress_timeout_ms, 30'000U);
  EXPECT_EQ(o.perturbation, Perturbation::light());
  EXPECT_NE(o.describe().find("stress_iterations=200 stress_milliseconds=0 stress_timeout_ms=30000 perturb=light"),
            std::string::npos)
      << o.describe();
}

TEST(StressOptions, EnvironmentOverridesEveryStressField) {
  const ScopedEnv a("INTERLEAVE_STRESS_ITERATIONS", "17");
  const ScopedEnv b("INTERLEAVE_STRESS_MILLISECONDS", "0x10");
  const ScopedEnv c("INTERLEAVE_STRESS_TIMEOUT_MS", "250");
  const ScopedEnv d("INTERLEAVE_PERTURB", "sleep=5,yield=10");
  Options o;
  o.apply_environment();
  EXPECT_EQ(o.stress_iterations, 17U);
  EXPECT_EQ(o.stress_milliseconds, 16U);
  EXPECT_EQ(o.stress_timeout_ms, 250U);
  EXPECT_EQ(o.perturbation, (Perturbation{10, 0, 5}));
  EXPECT_NE(o.describe().find("stress_iterations=17 stress_milliseconds=16 stress_timeout_ms=250 "
                              "perturb=yield=10,spin=0,sleep=5"),
            std::string::npos)
      << o.describe();
}

TEST(StressOptions, StressAppliesTheEnvironment) {
  const ScopedEnv a("INTERLEAVE_STRESS_ITERATIONS", "3");
  const ScopedEnv b("INTERLEAVE_SEED", "0x77");
  int runs = 0;
  const StressResult r = stress(Options{}, [&runs]<Platform P>() { ++runs; });
  EXPECT_TRUE(r.passed()) << r.report();
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(r.seed, 0x77U);
}

TEST(StressOptions, PerturbationNamesAndRatesParseBack) {
  for (const Perturbation p : {Perturbation::off(), Perturbation::light(), Perturbation::heavy(),
                               Perturbation{0, 0, 1000}, Perturbation{1, 2, 3}, Perturbation{1000, 0, 0}}) {
    EXPECT_EQ(Perturbation::parse(p.describe()), p) << p.describe();
  }
  EXPECT_EQ(Perturbation::parse("off").describe(), "off");
  EXPECT_EQ(Perturbation::parse("spin=7").describe(), "yield=0,spin=7,sleep=0");
  EXPECT_EQ(Perturbation::parse("yield=100,spin=100,sleep=20").describe(), "heavy");
  EXPECT_FALSE(Perturbation::off().enabled());
  EXPECT_TRUE(Perturbation::light().enabled());
}

TEST(StressOptions, MalformedValuesAreRefusedWithTheAcceptedForm) {
  const std::vector<std::tuple<const char*, const char*, const char*>> cases = {
      {"INTERLEAVE_STRESS_ITERATIONS", "0", ">= 1"},
      {"INTERLEAVE_STRESS_ITERATIONS", "ten", ">= 1"},
      {"INTERLEAVE_STRESS_MILLISECONDS", "-5", "0 means no time budget"},
      {"INTERLEAVE_STRESS_MILLISECONDS", "1.5", "0 means no time budget"},
      {"INTERLEAVE_STRESS_TIMEOUT_MS", "0", ">= 1 (milliseconds)"},
      {"INTERLEAVE_PERTURB", "", "'off', 'light', 'heavy'"},
      {"INTERLEAVE_PERTURB", "medium", "'off', 'light', 'heavy'"},
      {"INTERLEAVE_PERTURB", "yield=1001", "each 0..1000"},
      {"INTERLEAVE_PERTURB", "yield=600,sleep=600", "summing to at most 1000"},
      {"INTERLEAVE_PERTURB", "yield=1,yield=2", "yield=<n>,spin=<n>,sleep=<n>"},
      {"INTERLEAVE_PERTURB", "nap=3", "yield=<n>,spin=<n>,sleep=<n>"},
      {"INTERLEAVE_PERTURB", "yield=", "yield=<n>,spin=<n>,sleep=<n>"},
      {"INTERLEAVE_PERTURB", "yield=-1", "yield=<n>,spin=<n>,sleep=<n>"},
      {"INTERLEAVE_PERTURB", "yield=1,", "yield=<n>,spin=<n>,sleep=<n>"},
  };
  for (const auto& [name, value, accepted] : cases) {
    const ScopedEnv env(name, value);
    Options o;
    try {
      o.apply_environment();
      ADD_FAILURE() << "accepted " << name << "='" << value << "'";
    } catch (const std::invalid_argument& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(std::string(name) + "='" + value + "' is not valid"), std::string::npos) << message;
      EXPECT_NE(message.find(accepted), std::string::npos) << message;
    }
  }
}

TEST(StressOptions, ParseRefusesNamingTheText) {
  try {
    (void)Perturbation::parse("lots");
    FAIL() << "accepted 'lots'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("perturbation 'lots' is not valid; accepted: 'off'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace interleave
