// Tests of the user-written Mailbox (mailbox.h): a property checked under interleave's explorer on
// every generated shape, a test that the explorer catches the racy variant and replays the failure
// from its token, and the production type on real threads.
#include "mailbox.h"

#include <gtest/gtest.h>
#include <interleave/explore.h>
#include <interleave/gtest.h>
#include <interleave/rapidcheck.h>
#include <interleave/thread.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

namespace {

// `producers` threads each put `messages` distinct values into one mailbox; one consumer thread
// takes them all. Every value must arrive exactly once. Written once over the platform P.
template <template <interleave::Platform> class Box>
struct Exchange {
  int producers = 2;
  int messages = 1;

  template <interleave::Platform P>
  void operator()() const {
    Box<P> box;
    std::vector<int> received;
    interleave::BasicThread<P> consumer([&] {
      for (int i = 0; i < producers * messages; ++i) received.push_back(box.take());
    });
    std::deque<interleave::BasicThread<P>> senders;  // threads do not move: a deque keeps them in place
    for (int p = 0; p < producers; ++p) {
      senders.emplace_back([&box, p, this] {
        for (int m = 0; m < messages; ++m) box.put(p * 100000 + m);
      });
    }
    consumer.start();
    for (auto& s : senders) s.start();
    for (auto& s : senders) s.join();
    consumer.join();

    std::vector<int> expected;
    for (int p = 0; p < producers; ++p) {
      for (int m = 0; m < messages; ++m) expected.push_back(p * 100000 + m);
    }
    std::sort(received.begin(), received.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(received, expected) << "every value put is taken exactly once";
  }
};

// explore() applies the INTERLEAVE_* variables on top of these options, so a printed
// `INTERLEAVE_REPLAY=<token> ctest ...` line replays the failing schedule.
interleave::Options schedules(std::uint64_t n) {
  interleave::Options options;
  options.schedules = n;
  return options;
}

// The property: for every number of producers and messages, every schedule the explorer tries
// delivers each value exactly once (and never deadlocks).
RC_GTEST_PROP(Mailbox, EveryValueIsTakenExactlyOnceOnEverySchedule, ()) {
  const int producers = *rc::gen::inRange(1, 4);
  const int messages = *rc::gen::inRange(1, 4);
  const interleave::Result r =
      interleave::explore_test(schedules(100), Exchange<consumer::Mailbox>{producers, messages});
  if (r.failed()) RC_FAIL(r.report());  // the report ends with the line that replays the schedule
}

// The same property through interleave/rapidcheck.h (target interleave::rapidcheck): RapidCheck
// draws the exploration seed, so its reproduce string replays the scenario and its schedules.
RC_GTEST_PROP(Mailbox, EveryValueIsTakenExactlyOnceUnderCheckSchedules, ()) {
  const int producers = *rc::gen::inRange(1, 4);
  const int messages = *rc::gen::inRange(1, 4);
  interleave::check_schedules(Exchange<consumer::Mailbox>{producers, messages});
}

TEST(Mailbox, PassesTheDefaultExploration) {
  INTERLEAVE_EXPECT_PASS(interleave::explore_test(schedules(1000), Exchange<consumer::Mailbox>{3, 2}));
}

// The broken variant must be caught: the explorer finds a schedule that loses a value (the
// consumer then waits forever: a deadlock) or delivers one twice (the EXPECT_EQ fails).
TEST(RacyMailbox, ExplorationFindsTheLostValueAndItsTokenReplaysIt) {
  const interleave::Result found = interleave::explore_test(schedules(1000), Exchange<consumer::RacyMailbox>{2, 1});
  ASSERT_TRUE(found.failed()) << "the check-then-act race in RacyMailbox::put was not found";
  EXPECT_TRUE(found.failure->kind == interleave::FailureKind::deadlock ||
              found.failure->kind == interleave::FailureKind::assertion)
      << found;
  EXPECT_NE(found.report().find("reproduce: INTERLEAVE_REPLAY="), std::string::npos) << found;

  interleave::Options replay = schedules(1);
  replay.replay = found.reproduce_token();  // the schedule the report describes
  const interleave::Result again = interleave::explore_test(replay, Exchange<consumer::RacyMailbox>{2, 1});
  ASSERT_TRUE(again.failed()) << again;
  EXPECT_EQ(again.failure->kind, found.failure->kind);
  EXPECT_EQ(again.steps, found.steps);
}

// The production type: the same code on real threads and futexes.
TEST(Mailbox, DeliversEveryValueOnRealThreads) {
  Exchange<consumer::Mailbox>{4, 1000}.operator()<interleave::NativePlatform>();
}

}  // namespace
