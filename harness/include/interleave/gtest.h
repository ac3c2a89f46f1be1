// GoogleTest integration: explore inside a TEST, with GoogleTest assertions usable in the body.
//
//   TEST(Counter, LockedIncrementsAddUp) {
//     INTERLEAVE_EXPECT_PASS(interleave::explore_test({}, []<interleave::Platform P>() { ... }));
//   }
//
// Inside the body, EXPECT_* / ASSERT_* failures fail the schedule (an ASSERT ends the fiber it runs
// on, as it returns from that function); they are collected instead of being reported one by one,
// and the test then fails once, with the full report and the reproduce line for this test.
#pragma once

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "interleave/explore.h"

namespace interleave {

namespace detail {

inline std::string regex_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string_view(".[]{}()\\*+?^$|").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// The reproduce command for the running test: through ctest with the preset the build came from
// when known (INTERLEAVE_CTEST_PRESET), else this test program with a --gtest_filter for it.
inline std::string current_test_command() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info == nullptr) return {};
  const std::string name = std::string(info->test_suite_name()) + "." + info->name();
#ifdef INTERLEAVE_CTEST_PRESET
  return std::string("ctest --preset ") + INTERLEAVE_CTEST_PRESET + " -R '^" + regex_escape(name) + "$'";
#else
  return program_command_line(/*drop_gtest_filter=*/true) + " --gtest_filter='" + name + "'";
#endif
}

// Collects the GoogleTest assertion failures of the thread that made it.
class GtestFailureProbe final : public FailureProbe {
 public:
  std::string poll() override {
    std::string message;
    for (; seen_ < static_cast<std::size_t>(collected_.size()); ++seen_) {
      const ::testing::TestPartResult& r = collected_.GetTestPartResult(static_cast<int>(seen_));
      if (!r.failed()) continue;
      if (!message.empty()) message += "\n  ";
      message += std::string(r.file_name() != nullptr ? r.file_name() : "?") + ":" + std::to_string(r.line_number()) +
                 ": " + r.message();
    }
    return message;
  }

 private:
  ::testing::TestPartResultArray collected_;
  std::size_t seen_ = 0;
  ::testing::ScopedFakeTestPartResultReporter reporter_{
      ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &collected_};
};

}  // namespace detail

// explore() inside a GoogleTest test: GoogleTest assertions in the body fail the schedule, and the
// reproduce line runs this test. When GoogleTest itself shards the tests (GTEST_TOTAL_SHARDS set
// and not taken over by interleave::gtest_main), the schedules are not split across shards too.
template <class Body>
Result explore_test(Options options, Body&& body) {
  return detail::explore_function(
      std::move(options), detail::model_body(body), detail::current_test_command(),
      [] { return std::unique_ptr<detail::FailureProbe>(new detail::GtestFailureProbe); },
      std::getenv("GTEST_TOTAL_SHARDS") != nullptr);
}

}  // namespace interleave

// Passes when the exploration found no failure; otherwise fails the test with the full report.
#define INTERLEAVE_EXPECT_PASS(result_expression)                           \
  do {                                                                      \
    const ::interleave::Result interleave_result_ = (result_expression);    \
    EXPECT_TRUE(interleave_result_.passed()) << interleave_result_.report(); \
  } while (false)
