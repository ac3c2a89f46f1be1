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

}  // namespace detail

template <class Body>
Result explore_test(Options options, Body&& body) {
  ::testing::TestPartResultArray collected;
  std::size_t seen = 0;
  ::testing::ScopedFakeTestPartResultReporter reporter(
      ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &collected);
  auto probe = [&]() -> std::string {
    std::string message;
    for (; seen < static_cast<std::size_t>(collected.size()); ++seen) {
      const ::testing::TestPartResult& r = collected.GetTestPartResult(static_cast<int>(seen));
      if (!r.failed()) continue;
      if (!message.empty()) message += "\n  ";
      message += std::string(r.file_name() != nullptr ? r.file_name() : "?") + ":" + std::to_string(r.line_number()) +
                 ": " + r.message();
    }
    return message;
  };
  return detail::explore_function(std::move(options), detail::model_body(body), detail::current_test_command(),
                                  probe);
}

}  // namespace interleave

// Passes when the exploration found no failure; otherwise fails the test with the full report.
#define INTERLEAVE_EXPECT_PASS(result_expression)                           \
  do {                                                                      \
    const ::interleave::Result interleave_result_ = (result_expression);    \
    EXPECT_TRUE(interleave_result_.passed()) << interleave_result_.report(); \
  } while (false)
