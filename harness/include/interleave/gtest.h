// GoogleTest integration: explore inside a TEST, with GoogleTest assertions usable in the body.
//
//   TEST(Counter, LockedIncrementsAddUp) {
//     INTERLEAVE_EXPECT_PASS(interleave::explore_test({}, []<interleave::Platform P>() { ... }));
//   }
//
// Inside the body, EXPECT_* / ASSERT_* failures fail the schedule (an ASSERT ends the fiber it runs
// on, as it returns from that function); they are collected instead of being reported one by one,
// and the test then fails once, with the full report and the reproduce line for this test.
//
// A test that must pass is better written with INTERLEAVE_TEST, which keeps its failures:
//
//   INTERLEAVE_TEST(Counter, LockedIncrementsAddUp) {
//     INTERLEAVE_EXPECT_PASS(interleave::explore_test({}, []<interleave::Platform P>() { ... }));
//   }
//
// Inside it, explore_test first replays every schedule recorded for the test in the suite's
// regression file (regressions.h; <directory>/Counter.txt), then explores; a new failing schedule
// is appended to the file. The directory: INTERLEAVE_REGRESSIONS (or Options::regressions) when
// set, else INTERLEAVE_REGRESSIONS_DIR when the test program is compiled with that definition,
// else regressions/ beside the test's source file. A test that expects a failure uses TEST, so
// that it records nothing.
#pragma once

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "interleave/explore.h"
#include "interleave/regressions.h"

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
  // Appended piece by piece: g++ 12 at -O2 (with -fsanitize=thread) warns -Warray-bounds, a false
  // positive, on std::string("...") + "<literal macro>" + ...
  std::string name = info->test_suite_name();
  name += '.';
  name += info->name();
#ifdef INTERLEAVE_CTEST_PRESET
  std::string command = "ctest --preset ";
  command += INTERLEAVE_CTEST_PRESET;
  command += " -R '^";
  command += regex_escape(name);
  command += "$'";
#else
  std::string command = program_command_line(/*drop_gtest_filter=*/true);
  command += " --gtest_filter='";
  command += name;
  command += '\'';
#endif
  return command;
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

// The running INTERLEAVE_TEST on this thread, for explore_test: the n-th exploration in the test
// records its cases as "<Name>" (n = 1) or "<Name>/<n>".
class RegressionScope {
 public:
  explicit RegressionScope(std::string default_directory) : previous_(slot()) {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    suite_ = info->test_suite_name();
    name_ = info->name();
    default_directory_ = std::move(default_directory);
    slot() = this;
  }
  ~RegressionScope() { slot() = previous_; }
  RegressionScope(const RegressionScope&) = delete;
  RegressionScope& operator=(const RegressionScope&) = delete;

  static RegressionScope* current() noexcept { return slot(); }

  RegressionTarget next_target() {
    ++explorations_;
    RegressionTarget target;
    target.suite = suite_;
    target.test = explorations_ == 1 ? name_ : name_ + "/" + std::to_string(explorations_);
    target.display_name = suite_ + "." + name_;
    target.default_directory = default_directory_;
    return target;
  }

 private:
  static RegressionScope*& slot() noexcept {
    thread_local RegressionScope* current = nullptr;
    return current;
  }

  RegressionScope* previous_;
  std::string suite_;
  std::string name_;
  std::string default_directory_;
  int explorations_ = 0;
};

}  // namespace detail

// explore() inside a GoogleTest test: GoogleTest assertions in the body fail the schedule, and the
// reproduce line runs this test. When GoogleTest itself shards the tests (GTEST_TOTAL_SHARDS set
// and not taken over by interleave::gtest_main), the schedules are not split across shards too.
// Inside INTERLEAVE_TEST, recorded schedules are replayed first and a new failure is recorded
// (see above). Throws std::invalid_argument for a malformed INTERLEAVE_* variable or regression
// file line (naming file:line).
template <class Body>
Result explore_test(Options options, Body&& body) {
  const std::function<void()> model = detail::model_body(body);
  const auto run = [&model](Options o) {
    return detail::explore_function(
        std::move(o), model, detail::current_test_command(),
        [] { return std::unique_ptr<detail::FailureProbe>(new detail::GtestFailureProbe); },
        std::getenv("GTEST_TOTAL_SHARDS") != nullptr);
  };
  detail::RegressionScope* scope = detail::RegressionScope::current();
  if (scope == nullptr) return run(std::move(options));
  return detail::explore_recorded(scope->next_target(), std::move(options), run);
}

}  // namespace interleave

// Passes when the exploration found no failure; otherwise fails the test with the full report.
#define INTERLEAVE_EXPECT_PASS(result_expression)                            \
  do {                                                                       \
    const ::interleave::Result interleave_result_ = (result_expression);     \
    EXPECT_TRUE(interleave_result_.passed()) << interleave_result_.report(); \
  } while (false)

// The regression directory of tests defined in the including file: INTERLEAVE_REGRESSIONS_DIR when
// the program is compiled with it, else regressions/ beside the source file (__FILE__).
#ifdef INTERLEAVE_REGRESSIONS_DIR
#define INTERLEAVE_DETAIL_REGRESSIONS_DIRECTORY() (::std::string(INTERLEAVE_REGRESSIONS_DIR))
#else
#define INTERLEAVE_DETAIL_REGRESSIONS_DIRECTORY() (::interleave::detail::source_directory(__FILE__) + "/regressions")
#endif

// A GoogleTest test whose explore_test calls keep their failures in the suite's regression file:
// recorded schedules replay first, new failures are appended (see the top of this file).
#define INTERLEAVE_TEST(Suite, Name)                                                                    \
  static void interleave_test_body_##Suite##_##Name();                                                  \
  TEST(Suite, Name) {                                                                                   \
    ::interleave::detail::RegressionScope interleave_scope_(INTERLEAVE_DETAIL_REGRESSIONS_DIRECTORY()); \
    interleave_test_body_##Suite##_##Name();                                                            \
  }                                                                                                     \
  static void interleave_test_body_##Suite##_##Name()
