// Pipe between processes: a child's messages arrive in order, ping-pong both ways, end-of-stream
// and broken pipe across processes, and the parent's close wakes a child blocked in recv.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <tuple>

#include "interleave/pipe.h"
#include "interleave/process.h"
#include "support/asleep.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

using test_support::wait_until_asleep_on_futex;

// The Python tutorial's pattern: the child sends, the parent receives.
TEST(PipeProcess, ChildSendsParentReceivesInOrder) {
  PipeEnd parent_end;
  PipeEnd child_end;
  std::tie(parent_end, child_end) = make_pipe();
  Process child([end = child_end]() mutable {
    for (int i = 0; i < 5; ++i) end.send_value(i);
  });
  child.start();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(parent_end.recv_value<int>(), i);
  EXPECT_TRUE(child.join().success());
}

TEST(PipeProcess, PingPongBothWays) {
  PipeEnd parent_end;
  PipeEnd child_end;
  std::tie(parent_end, child_end) = make_pipe({.capacity = 64});
  Process child([end = child_end]() mutable -> int {
    for (;;) {
      std::string message;
      try {
        message = end.recv_string();
      } catch (const EndOfStream&) {
        return 0;
      }
      end.send("pong " + message);
    }
  });
  child.start();
  for (int i = 0; i < 200; ++i) {
    parent_end.send(std::to_string(i));
    ASSERT_EQ(parent_end.recv_string(), "pong " + std::to_string(i));
  }
  parent_end.close();  // the child sees end-of-stream and exits 0
  const auto status = child.join();
  EXPECT_TRUE(status.success()) << status.describe();
}

TEST(PipeProcess, EndOfStreamAndBrokenPipeAcrossProcesses) {
  PipeEnd parent_end;
  PipeEnd child_end;
  std::tie(parent_end, child_end) = make_pipe();
  Process child([end = child_end]() mutable -> int {
    end.send("last words");
    end.close();  // closes the end for the parent too
    return 0;
  });
  child.start();
  EXPECT_EQ(parent_end.recv_string(), "last words");
  EXPECT_THROW((void)parent_end.recv(), EndOfStream);
  EXPECT_THROW(parent_end.send("anyone?"), BrokenPipe);
  EXPECT_TRUE(child_end.closed());  // the same end, seen from the parent
  EXPECT_TRUE(child.join().success());
}

TEST(PipeProcess, ParentCloseWakesABlockedChild) {
  PipeEnd parent_end;
  PipeEnd child_end;
  std::tie(parent_end, child_end) = make_pipe();
  Process child([end = child_end]() mutable -> int {
    try {
      (void)end.recv();
      return 1;
    } catch (const EndOfStream&) {
      return 0;
    }
  });
  child.start();
  // Close only once the child sleeps in recv (it has nothing else to wait on).
  EXPECT_TRUE(wait_until_asleep_on_futex(child.pid()));
  parent_end.close();
  const auto status = child.join_for(10s);
  ASSERT_TRUE(status.has_value()) << "the child was not woken by close";
  EXPECT_TRUE(status->success()) << status->describe();
}

}  // namespace
}  // namespace interleave
