// Blocking I/O under the model (docs/std.md): a pipe between model threads works (read, readv,
// write, writev, poll, ppoll, select), a call that nothing makes ready is reported with its name
// instead of hanging, and poll's and select's timeouts run on the virtual clock.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
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

TEST(StdBlockingIo, ReadvWaitsForWritevAndSeesWhatWasWrittenBefore) {
  const Result r = interleave::explore(options(200), [] {
    Pipe pipe;
    int data = 0;
    std::thread writer([&] {
      data = 7;
      char head[] = {'a', 'b'};
      char tail[] = {'c'};
      iovec parts[] = {{head, sizeof head}, {tail, sizeof tail}};
      INTERLEAVE_ASSERT(::writev(pipe.fds[1], parts, 2) == 3);
    });
    char got[3] = {};
    iovec into[] = {{got, 1}, {got + 1, 2}};
    std::size_t total = 0;
    while (total < 3) {  // a pipe may hand over fewer bytes than were asked for
      const ssize_t n = ::readv(pipe.fds[0], into, 2);
      INTERLEAVE_ASSERT(n > 0);
      total += static_cast<std::size_t>(n);
      if (total < 3) {
        into[0] = {got + total, 3 - total};
        into[1] = {nullptr, 0};
      }
    }
    INTERLEAVE_ASSERT(got[0] == 'a' && got[1] == 'b' && got[2] == 'c' && data == 7);
    writer.join();
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdBlockingIo, SelectAndPpollWaitForTheWriteOrTimeOutOnTheVirtualClock) {
  const Result r = interleave::explore(options(200), [] {
    Pipe idle;
    fd_set none;
    FD_ZERO(&none);
    FD_SET(idle.fds[0], &none);
    timeval wait{0, 50'000};
    const auto before = std::chrono::steady_clock::now();
    INTERLEAVE_ASSERT(::select(idle.fds[0] + 1, &none, nullptr, nullptr, &wait) == 0);
    INTERLEAVE_ASSERT(std::chrono::steady_clock::now() - before >= std::chrono::milliseconds(50));
    INTERLEAVE_ASSERT(!FD_ISSET(idle.fds[0], &none));

    Pipe fed;
    std::thread writer([&] {
      const char byte = 'z';
      INTERLEAVE_ASSERT(::write(fed.fds[1], &byte, 1) == 1);
    });
    fd_set incoming;
    FD_ZERO(&incoming);
    FD_SET(fed.fds[0], &incoming);
    FD_SET(idle.fds[0], &incoming);
    const int count = std::max(fed.fds[0], idle.fds[0]) + 1;
    INTERLEAVE_ASSERT(::select(count, &incoming, nullptr, nullptr, nullptr) == 1);
    INTERLEAVE_ASSERT(FD_ISSET(fed.fds[0], &incoming) && !FD_ISSET(idle.fds[0], &incoming));
    pollfd ready{fed.fds[0], POLLIN, 0};
    INTERLEAVE_ASSERT(::ppoll(&ready, 1, nullptr, nullptr) == 1 && (ready.revents & POLLIN) != 0);
    writer.join();
  });
  EXPECT_TRUE(r.passed()) << r;
}

// A timeout the C library refuses fails at once with EINVAL, as it does outside the model, instead
// of being taken for "no timeout" and waited on.
TEST(StdBlockingIo, ANegativeSelectOrPpollTimeoutIsEinvalNotAWait) {
  const Result r = interleave::explore(options(5), [] {
    Pipe idle;
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(idle.fds[0], &readable);
    timeval negative{-1, 0};
    INTERLEAVE_ASSERT(::select(idle.fds[0] + 1, &readable, nullptr, nullptr, &negative) == -1 && errno == EINVAL);
    pollfd nothing{idle.fds[0], POLLIN, 0};
    const timespec bad_fraction{0, 2'000'000'000};
    INTERLEAVE_ASSERT(::ppoll(&nothing, 1, &bad_fraction, nullptr) == -1 && errno == EINVAL);
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdBlockingIo, ASelectNothingFeedsIsReportedWithItsName) {
  const Result r = interleave::explore(options(5), [] {
    Pipe pipe;
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(pipe.fds[0], &readable);
    (void)::select(pipe.fds[0] + 1, &readable, nullptr, nullptr, nullptr);  // nobody writes
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
  EXPECT_NE(r.failure->message.find("select(nfds "), std::string::npos) << r.failure->message;
}

// --- Waits for a signal or a child process ----------------------------------------------------

// SIGUSR2 blocked on this thread (which the model's fibers run on) for the test's duration, so a
// raised one stays pending for sigwait; nothing pending is left behind.
struct BlockedSignal {
  BlockedSignal() {
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, &before);
  }
  ~BlockedSignal() {
    const timespec zero{};
    while (::sigtimedwait(&set, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
  }
  BlockedSignal(const BlockedSignal&) = delete;
  BlockedSignal& operator=(const BlockedSignal&) = delete;
  sigset_t set{};
  sigset_t before{};
};

TEST(StdBlockingIo, ASigwaitNothingRaisesIsReportedWithItsName) {
  const BlockedSignal blocked;
  const Result r = interleave::explore(options(5), [&] {
    int signal = 0;
    (void)::sigwait(&blocked.set, &signal);  // nobody raises it: on real threads, a hang
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
  EXPECT_NE(r.failure->message.find("sigwait()"), std::string::npos) << r.failure->message;
  EXPECT_NE(r.failure->message.find("signals are not modelled"), std::string::npos) << r.failure->message;
  EXPECT_NE(r.report().find("io_test.cpp:"), std::string::npos) << r;
}

TEST(StdBlockingIo, ASignalAlreadyPendingIsTakenAndATimedWaitTimesOutOnTheVirtualClock) {
  const BlockedSignal blocked;
  const Result r = interleave::explore(options(20), [&] {
    // Blocked on whichever OS thread runs this schedule (an exploring worker too): the fibers
    // share it, so the raised signal stays pending there for sigwait.
    INTERLEAVE_ASSERT(pthread_sigmask(SIG_BLOCK, &blocked.set, nullptr) == 0);
    std::thread raiser([] { INTERLEAVE_ASSERT(::raise(SIGUSR2) == 0); });
    raiser.join();  // pending now
    int signal = 0;
    INTERLEAVE_ASSERT(::sigwait(&blocked.set, &signal) == 0 && signal == SIGUSR2);
    const timespec hour{3600, 0};
    errno = 0;
    INTERLEAVE_ASSERT(::sigtimedwait(&blocked.set, nullptr, &hour) == -1 && errno == EAGAIN);
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdBlockingIo, AWaitpidForAChildThatDoesNotEndIsReportedWithItsName) {
  int hold[2] = {-1, -1};
  ASSERT_EQ(::pipe(hold), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // ends once the parent closes its end of the pipe
    ::close(hold[1]);
    char byte = 0;
    (void)::read(hold[0], &byte, 1);
    ::_exit(0);
  }
  ::close(hold[0]);
  const Result r = interleave::explore(options(3), [child] {
    int status = 0;
    (void)::waitpid(child, &status, 0);
  });
  ::close(hold[1]);
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
  EXPECT_NE(r.failure->message.find("waitpid(" + std::to_string(child) + ")"), std::string::npos) << r.failure->message;
  EXPECT_NE(r.failure->message.find("another process is not modelled"), std::string::npos) << r.failure->message;
}

TEST(StdBlockingIo, WaitTakesAChildThatHasEnded) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(7);
  // Ended before the exploration (left unreaped, for the body's wait): the model cannot wait for a
  // real process to end, as the test above shows.
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  const Result r = interleave::explore(options(1), [child] {
    int status = 0;
    INTERLEAVE_ASSERT(::wait(&status) == child);
    INTERLEAVE_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 7);
  });
  EXPECT_TRUE(r.passed()) << r;
}

}  // namespace
