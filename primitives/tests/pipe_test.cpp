#include "interleave/pipe.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "interleave/process.h"
#include "support/asleep.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

using test_support::current_tid;
using test_support::wait_until_asleep_on_futex;

// Waits until thread `tid` has published its id, then until it sleeps in the kernel (on the
// pipe's futex: nothing else in these tests blocks). False if it never got there.
bool wait_until_blocked(const std::atomic<pid_t>& tid) {
  while (tid.load() == 0) std::this_thread::yield();
  return wait_until_asleep_on_futex(tid.load());
}

std::vector<std::byte> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((seed * 31U + i * 7U) & 0xffU);
  return bytes;
}

template <class F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

TEST(Pipe, DeliversMessagesInOrder) {
  auto [a, b] = make_pipe();
  a.send("one");
  a.send("two");
  a.send("three");
  EXPECT_EQ(b.recv_string(), "one");
  EXPECT_EQ(b.recv_string(), "two");
  EXPECT_EQ(b.recv_string(), "three");
  EXPECT_FALSE(b.poll());
}

TEST(Pipe, DefaultsAreDuplexWith64KiB) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  EXPECT_TRUE(a.duplex());
  EXPECT_TRUE(a.can_send() && a.can_recv() && b.can_send() && b.can_recv());
  EXPECT_EQ(a.max_message_size(), 64U * 1024U);
  EXPECT_FALSE(a.closed());
}

TEST(Pipe, WholeMessagesOfVariedSizesIncludingEmptyAndExactlyMax) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe({.capacity = 1000});
  for (const std::size_t size : {0UL, 1UL, 3UL, 4UL, 5UL, 63UL, 999UL, 1000UL, 0UL}) {
    const auto message = pattern(size, static_cast<std::uint32_t>(size));
    a.send(message);
    EXPECT_EQ(b.recv(), message) << "size " << size;
  }
}

TEST(Pipe, WrapsAroundTheRingKeepingMessagesWhole) {
  // Keeps the ring partly full while sizes vary, so headers and bodies wrap at every offset.
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe({.capacity = 97});
  std::mt19937_64 rng(12345);
  std::vector<std::vector<std::byte>> in_flight;
  std::size_t head = 0;
  std::size_t used = 0;
  for (std::uint32_t i = 0; i < 5000; ++i) {
    const std::size_t size = rng() % 40;
    while (used + size + 4 > 97 + 4) {
      ASSERT_TRUE(b.poll());
      EXPECT_EQ(b.recv(), in_flight[head]) << "message " << head;
      used -= in_flight[head].size() + 4;
      ++head;
    }
    in_flight.push_back(pattern(size, i));
    a.send(in_flight.back());
    used += size + 4;
  }
  while (head < in_flight.size()) EXPECT_EQ(b.recv(), in_flight[head++]);
  EXPECT_FALSE(b.poll());
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

TEST(Pipe, DirectionsAreIndependent) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe({.capacity = 16});
  // Fill a -> b completely: one 16-byte message fills the 20-byte ring.
  a.send(pattern(16, 3));
  EXPECT_FALSE(a.poll());  // a's incoming direction is still empty
  b.send("back");
  b.send("");
  EXPECT_TRUE(a.poll());
  EXPECT_EQ(a.recv_string(), "back");
  EXPECT_EQ(a.recv_string(), "");
  EXPECT_FALSE(a.poll());
  EXPECT_EQ(b.recv(), pattern(16, 3));
  EXPECT_FALSE(b.poll());
}

TEST(Pipe, OneWayFirstEndReceivesSecondEndSends) {
  PipeEnd reader;
  PipeEnd writer;
  std::tie(reader, writer) = make_pipe({.duplex = false});
  EXPECT_FALSE(reader.duplex());
  EXPECT_TRUE(reader.can_recv());
  EXPECT_FALSE(reader.can_send());
  EXPECT_TRUE(writer.can_send());
  EXPECT_FALSE(writer.can_recv());
  writer.send("hello");
  EXPECT_EQ(reader.recv_string(), "hello");

  const std::string send_error = thrown_message([&] { reader.send("no"); });
  EXPECT_NE(send_error.find("only receives"), std::string::npos) << send_error;
  EXPECT_THROW(reader.send_value(1), std::logic_error);
  const std::string recv_error = thrown_message([&] { (void)writer.recv(); });
  EXPECT_NE(recv_error.find("only sends"), std::string::npos) << recv_error;
  EXPECT_THROW((void)writer.poll(), std::logic_error);
  EXPECT_THROW((void)writer.recv_for(1ms), std::logic_error);
  EXPECT_THROW((void)writer.recv_value<int>(), std::logic_error);

  writer.close();
  EXPECT_THROW((void)reader.recv(), EndOfStream);
  reader.close();
}

TEST(Pipe, EndOfStreamAfterTheDataDrains) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  a.send("1");
  a.send("2");
  a.send("");
  a.close();
  EXPECT_TRUE(a.closed());
  EXPECT_FALSE(b.closed());
  EXPECT_TRUE(b.poll());
  EXPECT_EQ(b.recv_string(), "1");
  EXPECT_EQ(b.recv_string(), "2");
  EXPECT_EQ(b.recv_string(), "");
  EXPECT_TRUE(b.poll());  // end-of-stream is ready
  EXPECT_THROW((void)b.recv(), EndOfStream);
  EXPECT_THROW((void)b.recv_for(0s), EndOfStream);
  EXPECT_THROW((void)b.recv_value<int>(), EndOfStream);
  EXPECT_THROW((void)b.recv(), EndOfStream);  // stays at end-of-stream
  // b's own direction: its peer is closed.
  EXPECT_THROW(b.send("late"), BrokenPipe);
  b.close();
}

TEST(Pipe, SendToClosedPeerIsBrokenPipeAndSendsNothing) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  b.close();
  const std::string message = thrown_message([&] { a.send("x"); });
  EXPECT_NE(message.find("closed"), std::string::npos) << message;
  EXPECT_THROW(a.send("x"), BrokenPipe);
  EXPECT_THROW(a.send_value(1.5), BrokenPipe);
  EXPECT_THROW((void)a.recv(), EndOfStream);
}

TEST(Pipe, OperationsOnAClosedEndAreLogicErrors) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  b.send("pending");
  a.close();
  EXPECT_THROW(a.send("x"), std::logic_error);
  EXPECT_THROW((void)a.recv(), std::logic_error);  // even though a message is waiting
  EXPECT_THROW((void)a.poll(), std::logic_error);
  EXPECT_THROW((void)a.recv_for(1ms), std::logic_error);
  const std::string message = thrown_message([&] { a.close(); });
  EXPECT_NE(message.find("already closed"), std::string::npos) << message;
  // Not mistaken for the peer's conditions:
  try {
    a.send("x");
    ADD_FAILURE() << "send on a closed end did not throw";
  } catch (const BrokenPipe&) {
    ADD_FAILURE() << "send on a closed end threw BrokenPipe";
  } catch (const std::logic_error&) {
  }
}

TEST(Pipe, CopiesAreHandlesToTheSameEnd) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  PipeEnd a2 = a;
  a2.send("via copy");
  EXPECT_EQ(b.recv_string(), "via copy");
  a2.close();
  EXPECT_TRUE(a.closed());
  EXPECT_THROW(a.close(), std::logic_error);
  EXPECT_THROW((void)b.recv(), EndOfStream);
}

TEST(Pipe, EmptyHandlesThrow) {
  PipeEnd empty;
  EXPECT_FALSE(empty);
  EXPECT_THROW(empty.send("x"), std::logic_error);
  EXPECT_THROW((void)empty.recv(), std::logic_error);
  EXPECT_THROW(empty.close(), std::logic_error);
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  PipeEnd moved = std::move(a);
  EXPECT_TRUE(moved);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): a moved-from handle is empty by contract
  EXPECT_THROW(a.send("x"), std::logic_error);
  moved.send("ok");
  EXPECT_EQ(b.recv_string(), "ok");
}

TEST(Pipe, DestroyingHandlesDoesNotClose) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  { PipeEnd copy = a; }
  a.send("still open");
  EXPECT_EQ(b.recv_string(), "still open");
  EXPECT_FALSE(a.closed());
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

TEST(Pipe, BadOptionsAreRejected) {
  for (const std::int64_t capacity : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{-65536},
                                      PipeOptions::kMaxCapacity + 1, std::int64_t{1} << 40}) {
    const std::string message = thrown_message([&] { (void)make_pipe({.capacity = capacity}); });
    EXPECT_NE(message.find("capacity"), std::string::npos) << message;
    EXPECT_NE(message.find(std::to_string(capacity)), std::string::npos) << message;
    EXPECT_THROW((void)make_pipe({.capacity = capacity}), std::invalid_argument);
  }
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe({.capacity = 1});
  a.send("y");
  EXPECT_EQ(b.recv_string(), "y");
}

TEST(Pipe, OversizedMessageIsRejectedAndNothingIsSent) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe({.capacity = 16});
  const std::string message = thrown_message([&] { a.send(pattern(17, 0)); });
  EXPECT_NE(message.find("17"), std::string::npos) << message;
  EXPECT_NE(message.find("16"), std::string::npos) << message;
  EXPECT_THROW(a.send(pattern(17, 0)), std::length_error);
  EXPECT_THROW(a.send_value(std::array<char, 17>{}), std::length_error);
  EXPECT_FALSE(b.poll());
  a.send(pattern(16, 0));
  EXPECT_EQ(b.recv(), pattern(16, 0));
}

struct Point {
  double x;
  double y;
  int tag;
};

TEST(Pipe, TypedValuesRoundTripAndSizesAreChecked) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  a.send_value(Point{1.5, -2.0, 7});
  a.send_value(std::uint64_t{42});
  const auto p = b.recv_value<Point>();
  EXPECT_EQ(p.x, 1.5);
  EXPECT_EQ(p.y, -2.0);
  EXPECT_EQ(p.tag, 7);
  // The next message is 8 bytes; asking for 4 is an error that leaves the message in place.
  const std::string message = thrown_message([&] { (void)b.recv_value<std::uint32_t>(); });
  EXPECT_NE(message.find("8 bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("4 bytes"), std::string::npos) << message;
  EXPECT_THROW((void)b.recv_value<Point>(), std::length_error);
  EXPECT_EQ(b.recv_value<std::uint64_t>(), 42U);
}

TEST(Pipe, RecvIntoChecksTheBufferSize) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  a.send("hello");
  std::array<std::byte, 4> small{};
  EXPECT_THROW((void)b.recv_into(small), std::length_error);
  std::array<std::byte, 16> big{};
  ASSERT_EQ(b.recv_into(big), 5U);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(big.data()), 5), "hello");
  a.send("");
  EXPECT_EQ(b.recv_into(small), 0U);
}

// --- between processes --------------------------------------------------------------------

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
