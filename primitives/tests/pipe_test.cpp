// Pipe within one process: whole messages in order (varied sizes, wrapping around the ring),
// independent directions and one-way pipes, typed values and receiving into a buffer, and the
// rejection of bad options and oversized messages. Closing, blocking and timeouts, and pipes
// between processes have files of their own: pipe_close_test, pipe_blocking_test,
// pipe_process_test.
#include "interleave/pipe.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "support/pipe_test_helpers.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

using test_support::pattern;
using test_support::thrown_message;

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

}  // namespace
}  // namespace interleave
