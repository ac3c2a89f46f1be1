// Bounded multi-thread and multi-process stress for Pipe: every message arrives whole, in order,
// exactly once, with the rings small enough that senders and receivers block often.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "interleave/pipe.h"
#include "interleave/process.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

// A message: [producer id : 4][sequence : 4][filler derived from both], size varying with seq.
std::size_t message_size(std::uint32_t seq) { return 8 + (seq * 2654435761U >> 27); }  // 8..39 bytes

void fill(std::span<std::byte> out, std::uint32_t producer, std::uint32_t seq) {
  std::memcpy(out.data(), &producer, 4);
  std::memcpy(out.data() + 4, &seq, 4);
  for (std::size_t i = 8; i < out.size(); ++i) out[i] = static_cast<std::byte>((producer + seq + i) & 0xffU);
}

// Returns an empty string when `bytes` is a well-formed message, else what is wrong.
std::string check(std::span<const std::byte> bytes, std::uint32_t& producer, std::uint32_t& seq) {
  if (bytes.size() < 8) return "short message of " + std::to_string(bytes.size()) + " bytes";
  std::memcpy(&producer, bytes.data(), 4);
  std::memcpy(&seq, bytes.data() + 4, 4);
  if (bytes.size() != message_size(seq)) return "message " + std::to_string(seq) + " has the wrong size";
  for (std::size_t i = 8; i < bytes.size(); ++i) {
    if (bytes[i] != static_cast<std::byte>((producer + seq + i) & 0xffU)) {
      return "message " + std::to_string(seq) + " is corrupt at byte " + std::to_string(i);
    }
  }
  return {};
}

TEST(PipeStress, ProducerThreadStreams100kMessagesInOrder) {
  constexpr std::uint32_t kCount = 100'000;
  PipeEnd reader;
  PipeEnd writer;
  std::tie(reader, writer) = make_pipe({.capacity = 4096, .duplex = false});
  std::thread producer([writer_end = writer] {
    std::vector<std::byte> buffer(64);
    for (std::uint32_t seq = 0; seq < kCount; ++seq) {
      const std::span<std::byte> message(buffer.data(), message_size(seq));
      fill(message, 0, seq);
      writer_end.send(message);
    }
    writer_end.close();
  });
  std::uint32_t expected = 0;
  std::vector<std::byte> buffer(64);
  try {
    for (;;) {
      const std::size_t n = reader.recv_into(buffer);
      std::uint32_t who = 0;
      std::uint32_t seq = 0;
      const std::string problem = check(std::span(buffer.data(), n), who, seq);
      ASSERT_EQ(problem, "");
      ASSERT_EQ(seq, expected);
      ++expected;
    }
  } catch (const EndOfStream&) {
  }
  producer.join();
  EXPECT_EQ(expected, kCount);
}

TEST(PipeStress, ManySendersAndReceiversOnOneEndEachMessageOnce) {
  constexpr std::uint32_t kProducers = 3;
  constexpr std::uint32_t kConsumers = 3;
  constexpr std::uint32_t kPerProducer = 4000;
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe({.capacity = 256});
  std::vector<std::thread> producers;
  for (std::uint32_t p = 0; p < kProducers; ++p) {
    producers.emplace_back([a_end = a, p] {
      std::vector<std::byte> buffer(64);
      for (std::uint32_t seq = 0; seq < kPerProducer; ++seq) {
        const std::span<std::byte> message(buffer.data(), message_size(seq));
        fill(message, p, seq);
        a_end.send(message);
      }
    });
  }
  // Each consumer records what it got; a consumer takes messages in ring order, so each
  // producer's sequence numbers must increase within each consumer's record.
  std::vector<std::vector<std::uint32_t>> seen(kConsumers * kProducers);
  std::vector<std::string> problems(kConsumers);
  std::vector<std::thread> consumers;
  for (std::uint32_t c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&, b_end = b, c] {
      try {
        for (;;) {
          const auto bytes = b_end.recv();
          std::uint32_t who = 0;
          std::uint32_t seq = 0;
          std::string problem = check(bytes, who, seq);
          if (problem.empty() && who >= kProducers) problem = "unknown producer " + std::to_string(who);
          if (!problem.empty()) {
            problems[c] = problem;
            return;
          }
          auto& mine = seen[c * kProducers + who];
          if (!mine.empty() && mine.back() >= seq) {
            problems[c] = "producer " + std::to_string(who) + ": " + std::to_string(seq) + " after " +
                          std::to_string(mine.back());
            return;
          }
          mine.push_back(seq);
        }
      } catch (const EndOfStream&) {
      }
    });
  }
  for (auto& t : producers) t.join();
  a.close();  // the consumers drain the rest, then see end-of-stream
  for (auto& t : consumers) t.join();
  for (std::uint32_t c = 0; c < kConsumers; ++c) EXPECT_EQ(problems[c], "") << "consumer " << c;
  for (std::uint32_t p = 0; p < kProducers; ++p) {
    std::vector<int> count(kPerProducer, 0);
    for (std::uint32_t c = 0; c < kConsumers; ++c) {
      for (const std::uint32_t seq : seen[c * kProducers + p]) ++count[seq];
    }
    for (std::uint32_t seq = 0; seq < kPerProducer; ++seq) {
      ASSERT_EQ(count[seq], 1) << "producer " << p << " message " << seq;
    }
  }
}

TEST(PipeStress, BothDirectionsFullAtOnceDoNotDeadlock) {
  // Each end has a sender thread and a receiver thread; tiny rings keep both sides blocking.
  constexpr std::uint32_t kCount = 20'000;
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe({.capacity = 64});
  auto sender = [](PipeEnd end, std::uint32_t id) {
    return std::thread([end, id] {
      for (std::uint32_t seq = 0; seq < kCount; ++seq) end.send_value(std::uint64_t{id} << 32 | seq);
    });
  };
  std::atomic<std::uint32_t> bad{0};
  auto receiver = [&bad](PipeEnd end, std::uint32_t from) {
    return std::thread([end, from, &bad] {
      for (std::uint32_t seq = 0; seq < kCount; ++seq) {
        if (end.recv_value<std::uint64_t>() != (std::uint64_t{from} << 32 | seq)) bad.fetch_add(1);
      }
    });
  };
  std::thread threads[] = {sender(a, 1), sender(b, 2), receiver(b, 1), receiver(a, 2)};
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0U);
  EXPECT_FALSE(a.poll());
  EXPECT_FALSE(b.poll());
}

TEST(PipeStress, CloseWakesEveryBlockedThread) {
  for (int round = 0; round < 10; ++round) {
    PipeEnd a;
    PipeEnd b;
    std::tie(a, b) = make_pipe({.capacity = 8});
    a.send("12345678");  // a -> b is full
    std::atomic<int> eof{0};
    std::atomic<int> broken{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
      threads.emplace_back([&, a_end = a] {  // blocked on space, then BrokenPipe
        try {
          a_end.send("x");
        } catch (const BrokenPipe&) {
          broken.fetch_add(1);
        }
      });
      threads.emplace_back([&, a_end = a] {  // blocked on data (b sends nothing), then EOF
        try {
          (void)a_end.recv();
        } catch (const EndOfStream&) {
          eof.fetch_add(1);
        }
      });
    }
    if (round % 2 == 0) std::this_thread::sleep_for(1ms);
    b.close();
    for (auto& t : threads) t.join();
    ASSERT_EQ(eof.load(), 3) << "round " << round;
    ASSERT_EQ(broken.load(), 3) << "round " << round;
  }
}

TEST(PipeStress, ChildProcessStreamsToParentThroughASmallRing) {
  constexpr std::uint32_t kCount = 20'000;
  PipeEnd reader;
  PipeEnd writer;
  std::tie(reader, writer) = make_pipe({.capacity = 512, .duplex = false});
  Process child(
      [writer_end = writer] {
        std::vector<std::byte> buffer(64);
        for (std::uint32_t seq = 0; seq < kCount; ++seq) {
          const std::span<std::byte> message(buffer.data(), message_size(seq));
          fill(message, 7, seq);
          writer_end.send(message);
        }
        writer_end.close();
      },
      "streamer");
  child.start();
  std::uint32_t expected = 0;
  std::vector<std::byte> buffer(64);
  try {
    for (;;) {
      const std::size_t n = reader.recv_into(buffer);
      std::uint32_t who = 0;
      std::uint32_t seq = 0;
      ASSERT_EQ(check(std::span(buffer.data(), n), who, seq), "");
      ASSERT_EQ(who, 7U);
      ASSERT_EQ(seq, expected);
      ++expected;
    }
  } catch (const EndOfStream&) {
  }
  EXPECT_EQ(expected, kCount);
  const auto status = child.join();
  EXPECT_TRUE(status.success()) << status.describe();
}

TEST(PipeStress, PingPongWithTwoChildProcesses) {
  // Two children echo on their own pipes while the parent alternates between them.
  constexpr int kRounds = 2000;
  PipeEnd parent_ends[2];
  std::vector<std::unique_ptr<Process>> children;
  for (int i = 0; i < 2; ++i) {
    PipeEnd child_end;
    std::tie(parent_ends[i], child_end) = make_pipe({.capacity = 32});
    children.push_back(std::make_unique<Process>([end = child_end]() -> int {
      try {
        for (;;) end.send_value(end.recv_value<int>() + 1);
      } catch (const EndOfStream&) {
        return 0;
      }
    }));
    children.back()->start();
  }
  for (int r = 0; r < kRounds; ++r) {
    parent_ends[r % 2].send_value(r);
    ASSERT_EQ(parent_ends[r % 2].recv_value<int>(), r + 1);
  }
  for (auto& end : parent_ends) end.close();
  for (auto& child : children) {
    const auto status = child->join();
    EXPECT_TRUE(status.success()) << status.describe();
  }
}

}  // namespace
}  // namespace interleave
