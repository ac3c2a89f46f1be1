// Regression tests for what the fuzz targets (fuzz/, ci/fuzz.sh, docs/fuzzing.md) found, each
// beside the accepted input next to it, so that a fix that rejects too much fails too.
#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "interleave/options.h"
#include "interleave/schedule.h"
#include "interleave_test_support.h"

namespace interleave {
namespace {

using test_support::ScopedEnv;

std::string parse_error(std::string_view token) {
  try {
    (void)ScheduleId::parse(token);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

// schedule_token_fuzzer: a token with a NUL byte was quoted raw into the message, so what() (a C
// string) ended at the NUL and lost the reason and the accepted form.
TEST(FuzzRegression, TokenWithANulByteGetsTheWholeMessage) {
  using namespace std::string_view_literals;
  const std::string message = parse_error("nramd.os\0\0=01.i=0.w=50.m=1"sv);
  EXPECT_NE(message.find("unknown strategy 'nramd'"), std::string::npos) << message;
  EXPECT_NE(message.find(R"(nramd.os\x00\x00=01.i=0.w=50.m=1)"), std::string::npos) << message;
  EXPECT_NE(message.find("expected 'random.s=<hex>"), std::string::npos) << message;

  const std::string in_a_field = parse_error("random.s=1\0.i=0.w=50.m=1.t=1-1-00000000"sv);
  EXPECT_NE(in_a_field.find(R"(field 's' has value '1\x00')"), std::string::npos) << in_a_field;
  EXPECT_NE(in_a_field.find("as printed in a failure report"), std::string::npos) << in_a_field;
}

TEST(FuzzRegression, TokensStillRoundTripAtTheirLimits) {
  for (const std::string token :
       {"random.s=ffffffffffffffff.i=18446744073709551615.w=1000.m=18446744073709551615.t=32-32-ffffffff",
        "pct.d=64.c=1.s=0.i=0.w=0.m=1.t=1-1-00000000"}) {
    EXPECT_EQ(ScheduleId::parse(token).token(), token);
  }
}

// environment_fuzzer: after 0x, absl::SimpleHexAtoi also accepts spaces around the digits and a
// second 0x prefix, so INTERLEAVE_SEED='0x 3' silently meant seed 3.
TEST(FuzzRegression, HexValuesAcceptOnlyHexDigitsAfterThePrefix) {
  for (const char* value : {"0x 3", "0x3 ", "0x\t3", "0x3\n", "0x0x3", "0X0x3", "0x+3", "0x-3"}) {
    const ScopedEnv seed("INTERLEAVE_SEED", value);
    Options o;
    try {
      o.apply_environment();
      ADD_FAILURE() << "INTERLEAVE_SEED='" << value << "' was accepted as " << o.seed;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("INTERLEAVE_SEED"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("0x-hexadecimal"), std::string::npos) << e.what();
    }
  }
  for (const auto& [value, expected] : {std::pair{"0x3", 3ULL}, std::pair{"0X1EAF5eed", 0x1eaf5eedULL},
                                        std::pair{"0xffffffffffffffff", ~0ULL}, std::pair{"0x0003", 3ULL}}) {
    const ScopedEnv seed("INTERLEAVE_SEED", value);
    Options o;
    ASSERT_NO_THROW(o.apply_environment()) << value;
    EXPECT_EQ(o.seed, expected) << value;
  }
}

std::string perturbation_error(std::string_view text) {
  try {
    const Perturbation p = Perturbation::parse(text);
    return "(accepted as " + p.describe() + ")";
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
}

// perturbation_fuzzer: Perturbation::parse quoted the value raw into its message, so a NUL byte
// cut what() off before the accepted form.
TEST(FuzzRegression, PerturbationWithANulByteGetsTheWholeMessage) {
  using namespace std::string_view_literals;
  const std::string message = perturbation_error(
      "yeild\v\0\0\0"
      "55"sv);
  EXPECT_NE(message.find(R"('yeild\x0b\x00\x00\x00\x35\x35')"), std::string::npos) << message;
  EXPECT_NE(message.find("yield=<n>,spin=<n>,sleep=<n>"), std::string::npos) << message;
}

// perturbation_fuzzer: a rate was refused when written with more than four digits, so
// 'spin=00079' was an error while 'spin=0079' and INTERLEAVE_SEED=00079 were accepted.
TEST(FuzzRegression, PerturbationRatesAcceptLeadingZeros) {
  EXPECT_EQ(Perturbation::parse("spin=00079,yield=1"), (Perturbation{1, 79, 0}));
  EXPECT_EQ(Perturbation::parse("sleep=0000000001000"), (Perturbation{0, 0, 1000}));
  EXPECT_EQ(Perturbation::parse("yield=00000"), Perturbation::off());
  for (const char* refused : {"spin=01001", "spin=00000000000000000001001", "yield=99999999999999999999",
                              "yield=", "yield=+1", "yield=1,", "yield=600,spin=401"}) {
    EXPECT_NE(perturbation_error(refused).find("is not valid"), std::string::npos) << refused;
  }
}

}  // namespace
}  // namespace interleave
