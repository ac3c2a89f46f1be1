// Blocking I/O under the model (docs/std.md): a pipe between model threads works, a call that
// nothing makes ready is reported with its name instead of hanging, and poll's timeout runs on
// the virtual clock.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "interleave/explore.h"
#include "support.h"

namespace {

using interleave::FailureKind;
using interleave::Result;

using std_tests::options;

// A pipe made in the body, closed at its end (also when the schedule is torn down).
struct Pipe {
  Pipe() { INTERLEAVE_ASSERT(::pipe(fds) == 0); }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  int fds[2] = {-1, -1};
};

TEST(StdBlockingIo, AReadWaitsForTheWriterAndSeesWhatWasWrittenBefore) {
  const Result r = interleave::explore(options(200), [] {
    Pipe pipe;
    int data = 0;
    std::thread writer([&] {
      data = 42;  // ordered before the reader's use by the bytes it sends
      const char byte = 'x';
      INTERLEAVE_ASSERT(::write(pipe.fds[1], &byte, 1) == 1);
    });
    char got = 0;
    INTERLEAVE_ASSERT(::read(pipe.fds[0], &got, 1) == 1);
    INTERLEAVE_ASSERT(got == 'x' && data == 42);
    writer.join();
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdBlockingIo, WritingAndReadingDevicesOrdersNothing) {
  // Unlike a pipe, a device carries no data between threads: the counter's updates stay a race,
  // even when the write to /dev/null comes first (the sleep puts it there) and the read of
  // /dev/zero after it.
  const Result r = interleave::explore(options(50), [] {
    const int sink = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    const int source = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
    int counter = 0;
    std::thread other([&] {
      ++counter;
      INTERLEAVE_ASSERT(::write(sink, "a", 1) == 1);
    });
    std::this_thread::sleep_for(std::chrono::seconds(1));
    char byte = 1;
    INTERLEAVE_ASSERT(::read(source, &byte, 1) == 1);
    ++counter;
    other.join();
    ::close(sink);
    ::close(source);
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::data_race) << r;
}

TEST(StdBlockingIo, AReadNothingFeedsIsReportedWithItsName) {
  const Result r = interleave::explore(options(5), [] {
    Pipe pipe;
    char got = 0;
    (void)::read(pipe.fds[0], &got, 1);  // nobody writes: on real threads, a hang
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
  EXPECT_NE(r.failure->message.find("read(fd "), std::string::npos) << r.failure->message;
  EXPECT_NE(r.failure->message.find("blocking I/O is not modelled"), std::string::npos) << r.failure->message;
  EXPECT_NE(r.report().find("io_test.cpp:"), std::string::npos) << r;
}

TEST(StdBlockingIo, PollTimesOutOnTheVirtualClockOrSeesTheWrite) {
  const Result r = interleave::explore(options(200), [] {
    Pipe idle;
    pollfd nothing{idle.fds[0], POLLIN, 0};
    const auto before = std::chrono::steady_clock::now();
    INTERLEAVE_ASSERT(::poll(&nothing, 1, 100) == 0);
    INTERLEAVE_ASSERT(std::chrono::steady_clock::now() - before >= std::chrono::milliseconds(100));

    Pipe fed;
    std::thread writer([&] {
      const char byte = 'y';
      INTERLEAVE_ASSERT(::write(fed.fds[1], &byte, 1) == 1);
    });
    pollfd incoming{fed.fds[0], POLLIN, 0};
    INTERLEAVE_ASSERT(::poll(&incoming, 1, -1) == 1 && (incoming.revents & POLLIN) != 0);
    writer.join();
  });
  EXPECT_TRUE(r.passed()) << r;
}

}  // namespace
