// Test support: waiting for forked children without hanging the test.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "interleave/process.h"

namespace interleave::test_support {

// Joins `child`, which must end successfully within 10 s: one still running then sleeps for a
// wake-up that never reached it (a private futex, say), and the test fails instead of hanging
// (the Process's destructor kills the child).
inline void expect_success_within_10s(Process& child) {
  const std::optional<ExitStatus> status = child.join_for(std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value()) << child.name() << " still waits after 10 s: a wake-up never reached it";
  EXPECT_TRUE(status->success()) << child.name() << ": " << status->describe();
}

// Waits (up to 10 s) until `value` (in memory shared with a child) reads `expected`; false if it
// never did.
inline bool wait_for_value(const std::atomic<int>& value, int expected) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (value.load() != expected) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace interleave::test_support
