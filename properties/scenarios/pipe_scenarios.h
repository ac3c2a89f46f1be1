// The bodies of the one-way Pipe properties (properties/pipe_properties.cpp), each a function of
// one scenario: the property suite runs them over RapidCheck-generated scenarios, and
// bench/scoreboard/ runs them on one fixed scenario per broken pipe under every strategy.
// Each returns a platform-generic body, []<Platform P>() {...}, for explore() or stress(). A pipe
// type here is built from a capacity in messages and has send(int) / recv() -> std::optional<int>
// (std::nullopt at end-of-stream) / close() by the sender / poll(timeout) -> bool by the receiver
// (true when recv would not block: a message is ready, or end-of-stream).
#pragma once

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "interleave/explore.h"
#include "interleave/pipe.h"
#include "interleave/platform.h"
#include "interleave/thread.h"

namespace interleave::scenarios {

// Receives int messages from a pipe end until end-of-stream.
template <class End>
std::vector<int> receive_until_end_of_stream(const End& end) {
  std::vector<int> received;
  try {
    for (;;) received.push_back(end.template recv_value<int>());
  } catch (const EndOfStream&) {
  }
  return received;
}

// A one-way interleave Pipe carrying ints, seen through the interface the zoo shares.
template <Platform P>
class RealPipe {
 public:
  explicit RealPipe(int capacity_in_messages)
      : ends_(make_pipe<P>(PipeOptions{.capacity = capacity_in_messages * 8, .duplex = false})) {}
  void send(int value) { ends_.second.send_value(value); }
  std::optional<int> recv() {
    try {
      return ends_.first.template recv_value<int>();
    } catch (const EndOfStream&) {
      return std::nullopt;
    }
  }
  void close() { ends_.second.close(); }
  bool poll(std::chrono::nanoseconds timeout) { return ends_.first.poll(timeout); }

 private:
  std::pair<BasicPipeEnd<P>, BasicPipeEnd<P>> ends_;
};

// Messages arrive whole, in order, none lost or duplicated, then end-of-stream after the sender's
// close.
template <template <class> class PipeT>
auto order_then_end_of_stream(int capacity, std::vector<int> messages) {
  return [capacity, messages = std::move(messages)]<Platform P>() {
    PipeT<P> pipe(capacity);
    BasicThread<P> sender([&] {
      for (int m : messages) pipe.send(m);
      pipe.close();
    });
    sender.start();
    std::vector<int> received;
    while (const std::optional<int> m = pipe.recv()) received.push_back(*m);
    sender.join();
    INTERLEAVE_ASSERT(received == messages);
  };
}

// Data sent before close is still delivered after it: a receiver that starts late drains first.
template <template <class> class PipeT>
auto close_keeps_data_until_drained(int count) {
  return [count]<Platform P>() {
    PipeT<P> pipe(4);
    for (int i = 0; i < count; ++i) pipe.send(i);
    BasicThread<P> closer([&] { pipe.close(); });
    closer.start();
    int received = 0;
    while (pipe.recv()) ++received;
    closer.join();
    INTERLEAVE_ASSERT(received == count);
  };
}

// poll(timeout) says whether recv would block, and consumes nothing: it turns true before its
// deadline for each message on its way and at end-of-stream, stays true until recv takes what is
// ready, and stays false for `quiet` when nothing will come (no message left, sender not closed).
// In the model the timeouts are virtual: `quiet` passes only when every thread is blocked.
template <template <class> class PipeT>
auto poll_reports_readiness(int capacity, std::vector<int> messages, bool close,
                            std::chrono::nanoseconds quiet = std::chrono::hours(1)) {
  return [capacity, messages = std::move(messages), close, quiet]<Platform P>() {
    constexpr std::chrono::hours kLong{1};
    PipeT<P> pipe(capacity);
    BasicThread<P> sender([&] {
      for (int m : messages) pipe.send(m);
      if (close) pipe.close();
    });
    sender.start();
    for (int m : messages) {
      INTERLEAVE_ASSERT(pipe.poll(kLong));                        // a message is on its way
      INTERLEAVE_ASSERT(pipe.poll(std::chrono::nanoseconds(0)));  // still there: poll took nothing
      INTERLEAVE_ASSERT(pipe.recv() == m);
    }
    if (close) {
      INTERLEAVE_ASSERT(pipe.poll(kLong));  // end-of-stream is ready
      INTERLEAVE_ASSERT(!pipe.recv().has_value());
    } else {
      INTERLEAVE_ASSERT(!pipe.poll(quiet));
    }
    sender.join();
  };
}

}  // namespace interleave::scenarios
