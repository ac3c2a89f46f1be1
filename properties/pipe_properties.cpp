// Pipe: one property per guarantee of its contract (primitives/include/interleave/pipe.h), under the
// model scheduler over RapidCheck-generated scenarios; the zoo's broken pipes must fail the same
// properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <chrono>
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

// Up to `count` messages: a few in the model, more on real threads (see mutex_properties.cpp).
rc::Gen<std::vector<int>> messages(int count = 6) {
  return rc::gen::mapcat(rc::gen::inRange(0, count + 1), [](int n) {
    return rc::gen::container<std::vector<int>>(static_cast<std::size_t>(n), rc::gen::inRange(0, 1000));
  });
}

// The property bodies are in scenarios/pipe_scenarios.h; here each runs over generated scenarios,
// in the model (check_schedules) or on real threads (check_stress).
template <template <class> class PipeT, class Check = decltype(in_model)>
void order_then_end_of_stream(Check check = in_model, int count = 6) {
  const int capacity = *rc::gen::inRange(1, 4);
  check(scenarios::order_then_end_of_stream<PipeT>(capacity, *messages(count)));
}

template <template <class> class PipeT, class Check = decltype(in_model)>
void close_keeps_data_until_drained(Check check = in_model) {
  check(scenarios::close_keeps_data_until_drained<PipeT>(*rc::gen::inRange(1, 4)));
}

// `quiet`: how long poll must stay false when nothing more will come (virtual time in the model).
template <template <class> class PipeT, class Check = decltype(in_model)>
void poll_reports_readiness(Check check = in_model, std::chrono::nanoseconds quiet = std::chrono::hours(1)) {
  const int capacity = *rc::gen::inRange(1, 4);
  std::vector<int> sent = *messages(4);
  check(scenarios::poll_reports_readiness<PipeT>(capacity, std::move(sent), *rc::gen::arbitrary<bool>(), quiet));
}

INTERLEAVE_PROPERTY(PipeProperties, OrderThenEndOfStream, ()) { order_then_end_of_stream<scenarios::RealPipe>(); }
INTERLEAVE_PROPERTY(PipeProperties, CloseKeepsDataUntilDrained, ()) {
  close_keeps_data_until_drained<scenarios::RealPipe>();
}
INTERLEAVE_PROPERTY(PipeProperties, PollReportsReadinessAndConsumesNothing, ()) {
  poll_reports_readiness<scenarios::RealPipe>();
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

// The same guarantees of the production pipe on real threads under perturbed timing.
INTERLEAVE_PROPERTY(PipeStressProperties, OrderThenEndOfStream, ()) {
  order_then_end_of_stream<scenarios::RealPipe>(on_real_threads, 100);
}
INTERLEAVE_PROPERTY(PipeStressProperties, CloseKeepsDataUntilDrained, ()) {
  close_keeps_data_until_drained<scenarios::RealPipe>(on_real_threads);
}
INTERLEAVE_PROPERTY(PipeStressProperties, PollReportsReadinessAndConsumesNothing, ()) {
  poll_reports_readiness<scenarios::RealPipe>(on_real_threads, std::chrono::milliseconds(2));
}

// Between processes: a child process sends, the parent receives, in order, then end-of-stream.
INTERLEAVE_PROPERTY(PipeStressProperties, BetweenProcessesOrderThenEndOfStream, ()) {
  const int capacity = *rc::gen::inRange(1, 4);
  check_stress([capacity, sent = *messages(100)]<Platform P>() {
    auto [receiver, sender] = make_pipe<typename P::Shared>(PipeOptions{.capacity = capacity * 8, .duplex = false});
    typename P::Process child(
        [&sent, sender = sender] {
          for (int m : sent) sender.send_value(m);
          sender.close();
        },
        "sender");
    child.start();
    const std::vector<int> received = scenarios::receive_until_end_of_stream(receiver);
    child.join();
    INTERLEAVE_ASSERT(received == sent);
  });
}

TEST(PipeZoo, CloseWithoutWakeLeavesTheReceiverAsleep) {
  EXPECT_TRUE(property_fails("close without wake", [] { order_then_end_of_stream<zoo::CloseWithoutWakePipe>(); }));
}
TEST(PipeZoo, EndOfStreamBeforeDrainLosesData) {
  EXPECT_TRUE(
      property_fails("end of stream before drain", [] { close_keeps_data_until_drained<zoo::EofBeforeDrainPipe>(); }));
}
TEST(PipeZoo, PollIgnoringCloseMissesEndOfStream) {
  EXPECT_TRUE(property_fails("poll ignores close", [] { poll_reports_readiness<zoo::PollIgnoresClosePipe>(); }));
}
TEST(PipeZoo, WakeBeforePublishLosesAWakeup) {
  EXPECT_TRUE(property_fails("wake before publish", [] { order_then_end_of_stream<zoo::WakeBeforePublishPipe>(); }));
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
    const std::vector<int> got = scenarios::receive_until_end_of_stream(receiver);
    producer.join();
    INTERLEAVE_ASSERT((got == std::vector<int>{0, 1, 2, 3, 4}));
  }));
}

}  // namespace
}  // namespace interleave
