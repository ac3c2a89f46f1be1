// A process killed inside a SharedQueue or Pipe operation must not wedge the others: each test
// stops a child at a known point inside an operation (holding a pipe's lock, or owning a claimed
// ring slot: support/stop_hook_platform.h), kills it, and checks that everyone else still gets
// through. Calls that could hang run in a child process with a bound, so a regression is a
// failure with a message, not a test timeout. PreemptedHolder: a holder that is only paused must
// not make a zero-timeout call give up.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

#include "interleave/pipe.h"
#include "interleave/process.h"
#include "interleave/queue.h"
#include "interleave/shared_memory.h"
#include "support/stop_hook_platform.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;
using test_support::StopHookPlatform;
using test_support::StopHookThreadPlatform;
using test_support::StopPoint;
using HookQueue = BasicSharedQueue<int, StopHookPlatform>;
using HookPipeEnd = BasicPipeEnd<StopHookPlatform>;

// Starts `child` (whose body arms a stop point first) and returns once it is stopped there.
void start_stopped_at(Process& child) {
  child.start();
  ASSERT_TRUE(test_support::wait_until_stopped(child.pid())) << child.name() << " never reached its stop point";
}

void kill_and_reap(Process& child) {
  child.kill(SIGKILL);
  EXPECT_EQ(child.join().signal, SIGKILL);
}

// Runs `body` (returning the exit code: 0 for success) in a child process and requires it to end
// within 10 s; a child still running then is hung: killed, and the test fails naming `what`.
template <class F>
void expect_completes(const char* what, F body) {
  Process child(std::move(body), what);
  child.start();
  const std::optional<ExitStatus> status = child.join_for(10s);
  if (!status) {
    child.kill(SIGKILL);
    child.join();
    ADD_FAILURE() << what << ": did not return within 10 s (it hung)";
    return;
  }
  EXPECT_TRUE(status->success()) << what << ": " << status->describe();
}

TEST(DeadPeer, SharedQueueItemsPutAfterADeadProducersClaimStillArrive) {
  HookQueue q(4);
  Process producer(
      [&] {
        test_support::stop_before(StopPoint::store_u64);  // after claiming position 0, before publishing it
        q.put(1);
      },
      "producer");
  start_stopped_at(producer);
  kill_and_reap(producer);

  q.put(2);  // a later producer's put completes
  QueueResult<int> got = q.get_for(5s);
  ASSERT_TRUE(got) << "the item put after the dead producer's claim never arrived: " << got.status();
  EXPECT_EQ(*got, 2);
  EXPECT_EQ(q.size(), 0U);
}

TEST(DeadPeer, SharedQueueGetReturnsAfterCloseWhenAProducerDiedHoldingAClaim) {
  HookQueue q(4);
  Process producer(
      [&] {
        test_support::stop_before(StopPoint::store_u64);
        q.put(1);
      },
      "producer");
  start_stopped_at(producer);
  kill_and_reap(producer);

  q.close();
  expect_completes("get() after close()", [&] { return q.get().has_value() ? 1 : 0; });
}

TEST(DeadPeer, SharedQueuePutFindsRoomAfterAConsumerDiedHoldingAClaim) {
  HookQueue q(1);
  q.put(1);
  Process consumer(
      [&] {
        test_support::stop_before(StopPoint::store_u64);  // after taking the item, before freeing its slot
        (void)q.get();
      },
      "consumer");
  start_stopped_at(consumer);
  kill_and_reap(consumer);

  // The dead consumer's item is its own loss; the slot must come back.
  EXPECT_EQ(q.try_put_for(2, 5s), QueueStatus::ok) << "put found no room in an empty queue (size " << q.size() << ")";
  QueueResult<int> got = q.get_for(5s);
  ASSERT_TRUE(got) << got.status();
  EXPECT_EQ(*got, 2);
}

TEST(DeadPeer, PipeReceiverGetsThroughAfterASenderDiedHoldingTheLock) {
  auto [reader, writer] = make_pipe<StopHookPlatform>({.capacity = 64, .duplex = false});
  Process sender(
      [&, writer = writer] {
        test_support::stop_before(StopPoint::fetch_add_u32);  // inside send, holding the direction's lock
        writer.send(std::string_view("in flight"));
      },
      "sender");
  start_stopped_at(sender);
  kill_and_reap(sender);

  expect_completes("send after the sender died", [writer = writer] {
    writer.send(std::string_view("after"));
    return 0;
  });
  expect_completes("recv_for(300 ms) after the sender died", [reader = reader] {
    // The dead sender's message was complete when it died (its own in-flight item: delivered
    // here, which is allowed); the later one must follow it.
    std::optional<std::vector<std::byte>> first = reader.recv_for(300ms);
    std::optional<std::vector<std::byte>> second = reader.recv_for(300ms);
    if (!first || !second) return 2;
    const std::string text(reinterpret_cast<const char*>(second->data()), second->size());
    return text == "after" ? 0 : 3;
  });
}

TEST(DeadPeer, PipeSenderGetsThroughAfterAReceiverDiedHoldingTheLock) {
  auto [reader, writer] = make_pipe<StopHookPlatform>({.capacity = 16, .duplex = false});
  writer.send(std::string_view("0123456789ab"));  // 12 + 4 header bytes: the ring has no room for another
  Process receiver(
      [&, reader = reader] {
        test_support::stop_before(StopPoint::fetch_add_u32);  // inside recv, holding the lock
        (void)reader.recv();
      },
      "receiver");
  start_stopped_at(receiver);
  kill_and_reap(receiver);

  expect_completes("send after the receiver died", [writer = writer] {
    writer.send(std::string_view("fits again"));
    return 0;
  });
  expect_completes("recv_for after the receiver died", [reader = reader] {
    std::optional<std::vector<std::byte>> got = reader.recv_for(5s);
    if (!got) return 2;
    return std::string(reinterpret_cast<const char*>(got->data()), got->size()) == "fits again" ? 0 : 3;
  });
}

// Set by a sleeper just before its pipe call: from then on, the only sleep it can fall into is the
// call's wait (the direction's lock is free, and a spin yields without sleeping).
struct Calling {
  std::atomic<int> now{0};
};

enum class Scenario : std::uint8_t {
  survived,  // the killer died at its stop point and the sleeper still got through
  missed,    // the killer never stopped there: it found nobody asleep (the sleeper was looking again)
  failed,    // a failure was added
};

// A process asleep in a pipe operation must not stay asleep when the peer whose change it waits
// for dies without waking it. `sleeper` is started, says it is `calling`, and must then go to
// sleep (a futex wait, seen by the kernel); `killer` then runs to its stop point and is killed
// there; `sleeper` must end (with success) within 10 s.
//
// Between processes a sleeper wakes to look again now and then: when `killer` acts just then, it
// finds nobody asleep, makes no wake call and never stops (missed: the caller tries again). Code
// whose sleepers never look again is always found asleep, so the scenario then always happens.
Scenario sleeper_survives(Process& sleeper, const Calling& calling, Process& killer) {
  sleeper.start();
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (calling.now.load() == 0 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  if (calling.now.load() != 1 || !test_support::wait_until_asleep(sleeper.pid(), 10s)) {
    ADD_FAILURE() << sleeper.name() << " never went to sleep in its call";
    sleeper.kill(SIGKILL);
    sleeper.join();
    return Scenario::failed;
  }
  killer.start();
  const bool stopped = test_support::wait_until_stopped(killer.pid());
  if (stopped) {
    killer.kill(SIGKILL);
  }
  const ExitStatus killed = killer.join();
  const std::optional<ExitStatus> status = sleeper.join_for(10s);
  if (!status) {
    sleeper.kill(SIGKILL);
    sleeper.join();
    ADD_FAILURE() << sleeper.name() << " stayed asleep after " << killer.name() << (stopped ? " died" : " ended")
                  << " (did not end within 10 s)";
    return Scenario::failed;
  }
  if (!status->success()) {
    ADD_FAILURE() << sleeper.name() << ": " << status->describe();
    return Scenario::failed;
  }
  if (!stopped && !killed.success()) {
    ADD_FAILURE() << killer.name() << ": " << killed.describe();
    return Scenario::failed;
  }
  return stopped ? Scenario::survived : Scenario::missed;
}

// Runs `attempt` (one fresh pipe, sleeper and killer: a Scenario) until the scenario happens.
template <class Attempt>
void until_it_happens(const char* what, Attempt attempt) {
  constexpr int kAttempts = 50;
  for (int i = 0; i < kAttempts; ++i) {
    const Scenario scenario = attempt();
    if (scenario != Scenario::missed) return;
  }
  ADD_FAILURE() << what << ": in " << kAttempts << " attempts the peer never found the sleeper asleep";
}

// A sender asleep for room in a full ring; a receiver takes the message and is killed at `stop`.
// The sender's message must then arrive.
Scenario sender_asleep_receiver_killed_at(StopPoint stop) {
  auto [reader, writer] = make_pipe<StopHookPlatform>({.capacity = 16, .duplex = false});
  writer.send(std::string_view("0123456789ab"));  // fills the ring: the next send sleeps for room
  SharedObject<Calling> calling;
  Process sender(
      [&, writer = writer] {
        calling->now.store(1);
        writer.send(std::string_view("next"));
      },
      "sender");
  Process receiver(
      [stop, reader = reader] {
        test_support::stop_before(stop);
        (void)reader.recv();
      },
      "receiver");
  const Scenario scenario = sleeper_survives(sender, *calling, receiver);
  if (scenario == Scenario::survived) {
    std::optional<std::vector<std::byte>> got = reader.recv_for(5s);
    if (!got) {
      ADD_FAILURE() << "the sender's message never arrived";
    } else {
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(got->data()), got->size()), "next");
    }
  }
  return scenario;
}

TEST(DeadPeer, PipeSenderAsleepGetsThroughWhenTheReceiverDiesBeforeWakingIt) {
  // The message taken and the lock released, before the wake call.
  until_it_happens("receiver dies before waking", [] { return sender_asleep_receiver_killed_at(StopPoint::wake); });
}

// The kernel hands a dead holder's lock to the next thread that asks for it; here nobody asks
// but the sleeper itself.
TEST(DeadPeer, PipeSenderAsleepGetsThroughWhenTheReceiverDiesHoldingTheLock) {
  // The message taken, the lock held (the futex word's bump).
  until_it_happens("receiver dies holding the lock",
                   [] { return sender_asleep_receiver_killed_at(StopPoint::fetch_add_u32); });
}

TEST(DeadPeer, PipeReceiverAsleepSeesEndOfStreamWhenTheCloserDiesBeforeWakingIt) {
  until_it_happens("closer dies before waking", [] {
    auto [reader, writer] = make_pipe<StopHookPlatform>({.capacity = 64, .duplex = false});
    SharedObject<Calling> calling;
    Process receiver(
        [&, reader = reader] {
          try {
            calling->now.store(1);
            (void)reader.recv();
            return 2;  // nothing was ever sent
          } catch (const EndOfStream&) {
            return 0;
          }
        },
        "receiver");
    Process closer(
        [writer = writer] {
          test_support::stop_before(StopPoint::wake);  // the end marked closed and the lock released
          writer.close();
        },
        "closer");
    return sleeper_survives(receiver, *calling, closer);
  });
}

TEST(DeadPeer, PipeRecvForKeepsItsDeadlineWhileAStoppedPeerHoldsTheLock) {
  auto [reader, writer] = make_pipe<StopHookPlatform>({.capacity = 64, .duplex = false});
  Process sender(
      [&, writer = writer] {
        test_support::stop_before(StopPoint::fetch_add_u32);
        writer.send(std::string_view("held"));
      },
      "sender");
  start_stopped_at(sender);

  // The holder is alive (stopped): the lock stays taken, and the timed call must give up.
  expect_completes("recv_for(300 ms) while the lock is held",
                   [reader = reader] { return reader.recv_for(300ms).has_value() ? 1 : 0; });
  expect_completes("poll(0) while the lock is held", [reader = reader] { return reader.poll() ? 1 : 0; });
  kill_and_reap(sender);
}

// A live holder that is preempted keeps the direction's lock for a while (under load and under
// sanitizers, milliseconds). A zero-timeout poll must wait for it and see the message that is
// ready, not give up and say nothing is there. The preemption is a stop inside the second send,
// holding the lock after it published its message; it ends 20 ms later.
TEST(PreemptedHolder, PollSeesAReadyMessageWhileAnotherProcessHoldsTheLock) {
  auto [reader, writer] = make_pipe<StopHookPlatform>({.capacity = 64, .duplex = false});
  writer.send(std::string_view("ready"));
  Process sender(
      [&, writer = writer] {
        test_support::stop_before(StopPoint::fetch_add_u32);  // inside send, holding the lock
        writer.send(std::string_view("second"));
      },
      "sender");
  start_stopped_at(sender);
  std::thread resume([pid = sender.pid()] {
    std::this_thread::sleep_for(20ms);  // the length of the preemption, not a synchronization
    ::kill(pid, SIGCONT);
  });
  const bool ready = reader.poll();
  resume.join();
  EXPECT_TRUE(ready) << "poll(0) said no message is ready while one was, because the lock was held";
  EXPECT_TRUE(sender.join().success());
  EXPECT_EQ(reader.recv_for(5s).value_or(std::vector<std::byte>{}).size(), 5U);
}

std::atomic<bool> holder_paused{false};

TEST(PreemptedHolder, PollSeesAReadyMessageWhileAnotherThreadHoldsTheLock) {
  auto [reader, writer] = make_pipe<StopHookThreadPlatform>({.capacity = 64, .duplex = false});
  writer.send(std::string_view("ready"));
  test_support::stop_action() = [] {
    holder_paused.store(true);
    holder_paused.notify_all();
    std::this_thread::sleep_for(20ms);  // the length of the preemption, not a synchronization
  };
  std::thread sender([writer = writer] {
    test_support::stop_before(StopPoint::fetch_add_u32);  // inside send, holding the lock
    writer.send(std::string_view("second"));
  });
  holder_paused.wait(false);
  const bool ready = reader.poll();
  sender.join();
  test_support::stop_action() = nullptr;
  EXPECT_TRUE(ready) << "poll(0) said no message is ready while one was, because the lock was held";
}

}  // namespace
}  // namespace interleave
