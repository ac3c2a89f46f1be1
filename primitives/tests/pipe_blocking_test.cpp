// Pipe: blocking and timeouts. A blocked send or recv is woken by what unblocks it (a recv or a
// send, the close of either end), a message of exactly the maximum size waits for an empty ring,
// poll and recv_for wait up to their deadline and wake when data or end-of-stream arrives, and
// negative timeouts are rejected. Each test acts only once the blocked thread certainly sleeps in
// the kernel.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

#include "interleave/pipe.h"
#include "support/asleep.h"
#include "support/pipe_test_helpers.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

using test_support::current_tid;
using test_support::pattern;
using test_support::thrown_message;
using test_support::wait_until_asleep_on_futex;

// Waits until thread `tid` has published its id, then until it sleeps in the kernel (on the
// pipe's futex: nothing else in these tests blocks). False if it never got there.
bool wait_until_blocked(const std::atomic<pid_t>& tid) {
  while (tid.load() == 0) std::this_thread::yield();
  return wait_until_asleep_on_futex(tid.load());
}

TEST(Pipe, ExactlyMaxWaitsForAnEmptyRing) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe({.capacity = 100});
  a.send("x");
  std::atomic<bool> sent{false};
  std::atomic<pid_t> sender_tid{0};
  std::thread sender([&, a_copy = a] {
    sender_tid = current_tid();
    a_copy.send(pattern(100, 1));
    sent = true;
  });
  EXPECT_TRUE(wait_until_blocked(sender_tid));
  EXPECT_FALSE(sent.load());  // 1 + 4 bytes in a 104-byte ring leave no room for 100 + 4
  EXPECT_EQ(b.recv_string(), "x");
  EXPECT_EQ(b.recv(), pattern(100, 1));
  sender.join();
  EXPECT_TRUE(sent.load());
}

// Runs `body` (which blocks in a pipe operation and returns a code once it is woken) on its own
// thread; `unblock` runs once the thread sleeps in the kernel. Returns the code, or -1 if the
// thread was not woken within 10 s (it is then left detached: the test fails, nothing hangs).
template <class Body, class Unblock>
int woken_result(Body body, Unblock unblock) {
  auto tid = std::make_shared<std::atomic<pid_t>>(0);
  std::promise<int> promise;
  std::future<int> outcome = promise.get_future();
  std::thread worker([tid, body, promise = std::move(promise)]() mutable {
    *tid = current_tid();
    promise.set_value(body());
  });
  EXPECT_TRUE(wait_until_blocked(*tid)) << "the operation did not block";
  EXPECT_NE(outcome.wait_for(0s), std::future_status::ready) << "the operation did not block";
  unblock();
  if (outcome.wait_for(10s) != std::future_status::ready) {
    worker.detach();
    return -1;
  }
  worker.join();
  return outcome.get();
}

TEST(Pipe, BlockedRecvIsWokenByPeerClose) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  const int result = woken_result(
      [b] {
        try {
          (void)b.recv();
          return 1;
        } catch (const EndOfStream&) {
          return 2;
        }
      },
      [a] { a.close(); });
  EXPECT_EQ(result, 2);
}

TEST(Pipe, BlockedRecvIsWokenByItsOwnEndsClose) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  const int result = woken_result(
      [b] {
        try {
          (void)b.recv();
          return 1;
        } catch (const EndOfStream&) {
          return 2;
        } catch (const std::logic_error&) {
          return 3;
        }
      },
      [b] { b.close(); });
  EXPECT_EQ(result, 3);
}

TEST(Pipe, BlockedRecvIsWokenByASend) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  const int result = woken_result([b] { return b.recv_string() == "wake" ? 1 : 2; }, [a] { a.send("wake"); });
  EXPECT_EQ(result, 1);
}

TEST(Pipe, BlockedSendIsWokenByARecv) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe({.capacity = 8});
  a.send(pattern(8, 0));  // the ring is now full
  const int result = woken_result(
      [a] {
        a.send("more");
        return 1;
      },
      [b] { EXPECT_EQ(b.recv(), pattern(8, 0)); });
  EXPECT_EQ(result, 1);
  EXPECT_EQ(b.recv_string(), "more");
}

TEST(Pipe, BlockedSendIsWokenByPeerClose) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe({.capacity = 8});
  a.send(pattern(8, 0));  // the ring is now full
  const int result = woken_result(
      [a] {
        try {
          a.send("more");
          return 1;
        } catch (const BrokenPipe&) {
          return 2;
        }
      },
      [b] { b.close(); });
  EXPECT_EQ(result, 2);
}

TEST(Pipe, PollReportsDataWithoutConsumingIt) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  EXPECT_FALSE(b.poll());
  EXPECT_FALSE(b.poll(0s));
  a.send("m");
  EXPECT_TRUE(b.poll());
  EXPECT_TRUE(b.poll(0s));
  EXPECT_TRUE(b.poll(1s));
  EXPECT_EQ(b.recv_string(), "m");
  EXPECT_FALSE(b.poll());
}

TEST(Pipe, PollTimesOutWhenNothingArrives) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(b.poll(20ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  EXPECT_FALSE(b.poll(std::chrono::microseconds(1)));
}

TEST(Pipe, PollWakesWhenDataArrives) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  std::atomic<pid_t> poller{0};
  std::thread sender([&poller, a_copy = a]() mutable {
    EXPECT_TRUE(wait_until_blocked(poller));  // send only once poll is asleep
    a_copy.send("late");
  });
  poller = current_tid();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(b.poll(10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "poll was not woken by the send";
  EXPECT_EQ(b.recv_string(), "late");
  sender.join();
}

TEST(Pipe, PollIsTrueAtEndOfStream) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  std::atomic<pid_t> poller{0};
  std::thread closer([&poller, a_copy = a]() mutable {
    EXPECT_TRUE(wait_until_blocked(poller));  // close only once poll is asleep
    a_copy.close();
  });
  poller = current_tid();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(b.poll(10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "poll was not woken by the close";
  EXPECT_THROW((void)b.recv(), EndOfStream);
  closer.join();
}

TEST(Pipe, NegativeTimeoutsAreRejected) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  a.send("kept");
  const std::string message = thrown_message([&] { (void)b.poll(-1ms); });
  EXPECT_NE(message.find("Pipe::poll"), std::string::npos) << message;
  EXPECT_THROW((void)b.poll(-1ms), std::invalid_argument);
  EXPECT_THROW((void)b.recv_for(-1s), std::invalid_argument);
  EXPECT_EQ(b.recv_string(), "kept");
}

TEST(Pipe, RecvForReturnsMessagesOrNothingAtTheDeadline) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  EXPECT_FALSE(b.recv_for(0s).has_value());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(b.recv_for(15ms).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 15ms);
  a.send("now");
  const auto got = b.recv_for(0s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(got->data()), got->size()), "now");
  std::atomic<pid_t> receiver{0};
  std::thread sender([&receiver, a_copy = a]() mutable {
    EXPECT_TRUE(wait_until_blocked(receiver));  // send only once recv_for is asleep
    a_copy.send("soon");
  });
  receiver = current_tid();
  const auto before = std::chrono::steady_clock::now();
  const auto later = b.recv_for(10s);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s) << "recv_for was not woken by the send";
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->size(), 4U);
  sender.join();
}

}  // namespace
}  // namespace interleave
