// Pipe: one property per guarantee of its contract (primitives/include/interleave/pipe.h), under the
// model scheduler over RapidCheck-generated scenarios; the zoo's broken pipes must fail the same
// properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "interleave/pipe.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"
#include "scenarios/pipe_scenarios.h"
#include "zoo/broken_pipes.h"

namespace interleave {
namespace {

// The property bodies are in scenarios/pipe_scenarios.h; here each runs over generated scenarios.
template <template <class> class PipeT>
void order_then_end_of_stream() {
  const int capacity = *rc::gen::inRange(1, 4);
  const auto count = static_cast<std::size_t>(*rc::gen::inRange(0, 7));
  std::vector<int> messages = *rc::gen::container<std::vector<int>>(count, rc::gen::inRange(0, 1000));
  check_schedules(scenarios::order_then_end_of_stream<PipeT>(capacity, std::move(messages)));
}

template <template <class> class PipeT>
void close_keeps_data_until_drained() {
  check_schedules(scenarios::close_keeps_data_until_drained<PipeT>(*rc::gen::inRange(1, 4)));
}

INTERLEAVE_PROPERTY(PipeProperties, OrderThenEndOfStream, ()) { order_then_end_of_stream<scenarios::RealPipe>(); }
INTERLEAVE_PROPERTY(PipeProperties, CloseKeepsDataUntilDrained, ()) {
  close_keeps_data_until_drained<scenarios::RealPipe>();
}

// The two directions of a duplex pipe are independent: traffic one way never shows up, blocks or
// reorders the other.
INTERLEAVE_PROPERTY(PipeProperties, DirectionsAreIndependent, ()) {
  const int rounds = *rc::gen::inRange(1, 4);
  check_schedules([&]<Platform P>() {
    // Room for every message of a round (4 bytes each plus a 4-byte header), so both sides can
    // send before they receive.
    auto [a, b] = make_pipe<P>(PipeOptions{.capacity = 8 * rounds});
    BasicThread<P> right([&, &b = b] {
      for (int i = 0; i < rounds; ++i) b.send_value(1000 + i);
      for (int i = 0; i < rounds; ++i) INTERLEAVE_ASSERT(b.template recv_value<int>() == i);
    });
    right.start();
    for (int i = 0; i < rounds; ++i) a.send_value(i);
    for (int i = 0; i < rounds; ++i) INTERLEAVE_ASSERT(a.template recv_value<int>() == 1000 + i);
    right.join();
  });
}

TEST(PipeZoo, CloseWithoutWakeLeavesTheReceiverAsleep) {
  EXPECT_FALSE(rc::check("close without wake", [] { order_then_end_of_stream<zoo::CloseWithoutWakePipe>(); }));
}
TEST(PipeZoo, EndOfStreamBeforeDrainLosesData) {
  EXPECT_FALSE(
      rc::check("end of stream before drain", [] { close_keeps_data_until_drained<zoo::EofBeforeDrainPipe>(); }));
}
TEST(PipeZoo, WakeBeforePublishLosesAWakeup) {
  EXPECT_FALSE(rc::check("wake before publish", [] { order_then_end_of_stream<zoo::WakeBeforePublishPipe>(); }));
}

// The tutorial's Pipe program as a property of the real pipe: 0..4 arrive in order, then EOF.
INTERLEAVE_TEST(TutorialPipe, ZeroToFourInOrderThenEndOfStream) {
  INTERLEAVE_EXPECT_PASS(explore_test(Options{}, []<Platform P>() {
    auto [receiver, sender] = make_pipe<P>(PipeOptions{.duplex = false});
    BasicThread<P> producer([&, &sender = sender] {
      for (int i = 0; i < 5; ++i) sender.send_value(i);
      sender.close();
    });
    producer.start();
    std::vector<int> got;
    try {
      for (;;) got.push_back(receiver.template recv_value<int>());
    } catch (const EndOfStream&) {
    }
    producer.join();
    INTERLEAVE_ASSERT((got == std::vector<int>{0, 1, 2, 3, 4}));
  }));
}

}  // namespace
}  // namespace interleave
